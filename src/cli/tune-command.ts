/**
 * `teacherlm tune --model DIR`: measures the engine layouts on this machine and records the
 * best for `auto` (src/teacher/tuning/tune.ts).
 */
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import { choiceOption, intArg, rejectOption } from '../options.js';
import type { Layout } from '../teacher/engine-layout.js';
import { DEVICES, type Device } from '../teacher/device.js';
import { MODEL_DTYPES, type ModelDtype } from '../teacher/model-files.js';
import { describeLayout, describeRatios } from '../teacher/tuning/layout-choice.js';
import { DEFAULT_TUNE_WORKLOAD } from '../teacher/tuning/tune-workload.js';
import type { Command } from './command.js';

const HELP = `Usage: teacherlm tune --model DIR [options]

Measures which engine layout (workers x intra-op threads per worker) generates fastest with
the model's file on this machine, and records it in .cache/tune/ (TEACHERLM_CACHE_DIR/tune
when set). The workload is short and fixed: TeacherLM prompts of the bundled CREAK samples,
greedy, ${DEFAULT_TUNE_WORKLOAD.maxNewTokens} new tokens, in closed batches of ${DEFAULT_TUNE_WORKLOAD.batchSizes.join(' and ')}, in interleaved rounds; the winner
has the most tokens/s over both (geometric mean) against the others in the same round, the
median over the rounds (about a minute on 2 cores). \`auto\` workers and threads (annotate,
run, the demo, topologies) then use it for this file on this machine, and say so in their
log; explicit numbers are honoured as ever. A tuning stops applying, with a warning, when
the file, the onnxruntime version, the core count or the CPU's matrix flags change: tune
again then.

  --model DIR          model folder in the Optimum ONNX layout
  --dtype D            fp32 | fp16 | int8 (default fp32): tunes the file the engine loads for it
  --onnx-file F        explicit file under <model>/onnx/ (overrides --dtype)
  --device D           auto | cpu | cuda (default auto)
  --layouts L          WORKERSxTHREADS,... to measure (default: every split of the
                       ${availableParallelism()} cores, as many workers as memory allows, e.g. 2x1,1x2;
                       on CUDA one session against two)
  --batch-sizes LIST   default ${DEFAULT_TUNE_WORKLOAD.batchSizes.join(',')}
  --max-new-tokens N   default ${DEFAULT_TUNE_WORKLOAD.maxNewTokens}
  --rounds N           interleaved passes over the layouts (default ${DEFAULT_TUNE_WORKLOAD.rounds})`;

/** `2x1,1x2` as layouts; names the bad entry. */
export function parseLayouts(text: string): Layout[] {
  return text.split(',').map((entry) => {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(entry);
    if (!m) rejectOption('--layouts', 'WORKERSxTHREADS entries such as 2x1,1x2', entry);
    const workers = intArg('--layouts (workers)', m[1], { max: 64 })!;
    const intraOpThreads = intArg('--layouts (threads)', m[2], { max: 256 })!;
    return { workers, intraOpThreads };
  });
}

export const tuneCommand: Command = {
  summary: "measure the engine layouts on this machine and record the best for 'auto'",
  async run(args: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          model: { type: 'string' },
          dtype: { type: 'string' },
          'onnx-file': { type: 'string' },
          device: { type: 'string' },
          layouts: { type: 'string' },
          'batch-sizes': { type: 'string' },
          'max-new-tokens': { type: 'string' },
          rounds: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      throw new TeacherlmError('INVALID_OPTIONS', (err as Error).message, { hint: "see 'teacherlm tune --help'" });
    }
    const v = parsed.values;
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    if (!v.model) rejectOption('--model', 'the model folder', v.model);
    const dtype = choiceOption<ModelDtype>('--dtype', v.dtype, Object.keys(MODEL_DTYPES) as ModelDtype[], 'fp32');
    const device = choiceOption<Device>('--device', v.device, DEVICES, 'auto');
    const batchSizes = v['batch-sizes'] === undefined ? DEFAULT_TUNE_WORKLOAD.batchSizes : v['batch-sizes'].split(',').map((b) => intArg('--batch-sizes', b, { max: 256 })!);
    const workload = {
      batchSizes,
      maxNewTokens: intArg('--max-new-tokens', v['max-new-tokens'], { max: 4096 }) ?? DEFAULT_TUNE_WORKLOAD.maxNewTokens,
      rounds: intArg('--rounds', v.rounds, { max: 100 }) ?? DEFAULT_TUNE_WORKLOAD.rounds,
    };
    const layouts = v.layouts === undefined ? undefined : parseLayouts(v.layouts);
    const { tune } = await import('../teacher/tuning/tune.js');
    const log = (message: string) => console.error(`teacherlm: tune: ${message}`);
    const { tuning, path } = await tune({ modelDir: v.model, dtype, onnxFile: v['onnx-file'], device, layouts, workload, log });
    const where = relative(process.cwd(), path);
    console.log(`tuned in ${tuning.seconds} s: ${describeRatios(tuning)}; auto now runs ${describeLayout(tuning.winner)} for this file on this machine (${where.startsWith('..') ? path : where})`);
    return 0;
  },
};
