/**
 * `teacherlm annotate --model DIR --in samples.jsonl --out augmented.jsonl`: file mode,
 * for users without Kafka. `--dry-run` prints the exact prompts and loads no model.
 */
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import type { Command } from './command.js';
import { parseFieldMap } from '../records/field-map.js';
import { kindsOption } from '../annotate/cli-values.js';
import { choiceOption, intArg, numberArg, rejectOption } from '../options.js';
import { annotateFile, dryRunFile, type AnnotateFileOptions } from '../annotate/annotate-file.js';
import { fileWriter, stdoutWriter, type LineWriter } from '../annotate/line-writer.js';
import { createProgress } from '../annotate/progress-bar.js';
import { countLines } from '../annotate/count-lines.js';
import { describeQuality } from '../quality/describe-counts.js';
import { createChatTemplate } from '../teacher/chat-template.js';
import { loadTokenizerConfig, MODEL_DTYPES, type ModelDtype } from '../teacher/model-files.js';
import { DEVICES, type Device } from '../teacher/device.js';
import { BATCHING_MODES, type Batching } from '../teacher/batching.js';
import { MAX_DRAFT_TOKENS } from '../teacher/prompt-lookup.js';
import type { PromptStyle } from '../teacher/types.js';
import { loadQualityFile } from '../quality/quality-file.js';
import { DEFAULT_QUALITY, QUALITY_FAILURE_ACTIONS, type QualityFailureAction, type QualitySpec } from '../quality/quality-options.js';

const HELP = `Usage: teacherlm annotate --model DIR --in samples.jsonl --out augmented.jsonl [options]

Input: RawSample JSON lines (id, task, question, answer, optional context, metadata).
Output: one JSON line per sample with its annotations and generation stats.

  --model DIR            model folder in the Optimum ONNX layout
  --in FILE              input JSON lines
  --out FILE             output JSON lines (stdout for --dry-run when omitted)
  --errors FILE          malformed lines and failed samples (default <out>.errors.jsonl)
  --map F=SRC,...        read RawSample field F from input field SRC (e.g. id=ex_id,task=task_name)
  --dry-run              print {"id","prompts":{...}} per sample; loads no model
  --kinds LIST           fundamentals,cot,mistakes (default all three)
  --prompt-style S       raw | chat (default raw)
  --max-new-tokens N     default 128
  --max-batch-size N     requests per engine batch when batching statically, and per
                         regeneration round (default 16)
  --batching B           continuous | static (default continuous: prompts join the running
                         batch at step boundaries; static: closed batches)
  --temperature T        0 = greedy (default 0)
  --top-k N, --top-p P   sampling filters (temperature > 0)
  --seed N               sampling seed (default 0)
  --repetition-penalty R > 1 discourages tokens already in the sequence (Hugging Face's; default 1 = off)
  --no-repeat-ngram-size N  no n-gram of N tokens occurs twice (default 0 = off)
  --min-new-tokens N     no end-of-sequence before N tokens (default 0)
  --ban-invented-options never write an option label the question does not offer ("(C)"
                         under (A) and (B)): banned token sequences, per sample
  --quality FILE         the quality gate, set by FILE's 'quality:' section as in a topology
                         (e.g. topologies/default.yaml); see the README, "Quality gate"
  --quality-attempts N   generations per annotation, the first included (gate on; default 3)
  --quality-on-failure A keep | drop | dead-letter (to the errors file) (gate on; default keep)
  --workers N|auto       engine worker threads (default auto: the layout 'teacherlm tune'
                         measured best for this model file on this machine, else one
                         single-threaded session per core as memory allows)
  --threads N|auto       intra-op threads per worker (default: the tuned layout's with
                         --workers auto, else cores / workers)
  --prompt-lookup-tokens N  speculative decoding: tokens each greedy row drafts from its own
                         prompt and output, checked in one call (the same output); 0 = off
                         (default 4, at most 16)
  --prompt-lookup-max-rows N  speculate only while a worker's batch holds at most N rows (default 2)
  --device D             auto | cpu | cuda (default auto)
  --dtype D              fp32 | fp16 | int8 weights (default fp32)
  --onnx-file F          explicit file under <model>/onnx/ (overrides --dtype)`;

/** The gate: FILE's `quality:` section, or the defaults when only the attempts or the failure action are given. */
function qualityOption(file: string | undefined, attempts: string | undefined, onFailure: string | undefined): QualitySpec | undefined {
  if (file === undefined && attempts === undefined && onFailure === undefined) return undefined;
  const spec = file === undefined ? structuredClone(DEFAULT_QUALITY) : loadQualityFile(file);
  const n = intArg('--quality-attempts', attempts, { min: 1, max: 100 });
  if (n !== undefined) spec.attempts = n;
  if (onFailure !== undefined) spec.onFailure = choiceOption<QualityFailureAction>('--quality-on-failure', onFailure, QUALITY_FAILURE_ACTIONS, 'keep');
  return spec;
}

export const annotateCommand: Command = {
  summary: 'annotate a JSON-lines file of samples with a teacher model (no Kafka)',
  async run(args: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          model: { type: 'string' },
          in: { type: 'string' },
          out: { type: 'string' },
          errors: { type: 'string' },
          map: { type: 'string' },
          'dry-run': { type: 'boolean' },
          kinds: { type: 'string' },
          'prompt-style': { type: 'string' },
          'max-new-tokens': { type: 'string' },
          'max-batch-size': { type: 'string' },
          temperature: { type: 'string' },
          'top-k': { type: 'string' },
          'top-p': { type: 'string' },
          seed: { type: 'string' },
          'repetition-penalty': { type: 'string' },
          'no-repeat-ngram-size': { type: 'string' },
          'min-new-tokens': { type: 'string' },
          'ban-invented-options': { type: 'boolean' },
          quality: { type: 'string' },
          'quality-attempts': { type: 'string' },
          'quality-on-failure': { type: 'string' },
          batching: { type: 'string' },
          workers: { type: 'string' },
          threads: { type: 'string' },
          'prompt-lookup-tokens': { type: 'string' },
          'prompt-lookup-max-rows': { type: 'string' },
          device: { type: 'string' },
          dtype: { type: 'string' },
          'onnx-file': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      throw new TeacherlmError('INVALID_OPTIONS', (err as Error).message, { hint: "see 'teacherlm annotate --help'" });
    }
    const v = parsed.values;
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    const dryRun = v['dry-run'] === true;
    if (!v.in) rejectOption('--in', 'the input file', v.in);
    if (!dryRun && !v.out) rejectOption('--out', 'the output file (or --dry-run)', v.out);
    if (!dryRun && !v.model) rejectOption('--model', 'the model folder', v.model);
    const promptStyle = choiceOption<PromptStyle>('--prompt-style', v['prompt-style'], ['raw', 'chat'], 'raw');
    if (promptStyle === 'chat' && !v.model) throw new TeacherlmError('INVALID_OPTIONS', "--model: the 'chat' prompt style needs the model's chat template");
    const temperature = numberArg('--temperature', v.temperature, 0, 100) ?? 0;
    const options: AnnotateFileOptions = {
      inPath: v.in,
      fieldMap: parseFieldMap(v.map, '--map'),
      kinds: kindsOption(v.kinds),
      promptStyle,
      maxBatchSize: intArg('--max-batch-size', v['max-batch-size'], { max: 1024 }) ?? 16,
      generation: {
        maxNewTokens: intArg('--max-new-tokens', v['max-new-tokens'], { max: 32768 }) ?? 128,
        temperature,
        topK: intArg('--top-k', v['top-k'], { min: 0 }),
        topP: numberArg('--top-p', v['top-p'], 0, 1),
        seed: intArg('--seed', v.seed, { min: 0, max: 2 ** 32 - 1 }) ?? 0,
        repetitionPenalty: numberArg('--repetition-penalty', v['repetition-penalty'], 0.01, 100),
        noRepeatNgramSize: intArg('--no-repeat-ngram-size', v['no-repeat-ngram-size'], { min: 0, max: 1024 }),
        minNewTokens: intArg('--min-new-tokens', v['min-new-tokens'], { min: 0, max: 32768 }),
      },
    };
    if (v['ban-invented-options'] === true) options.banInventedOptions = true;
    const quality = qualityOption(v.quality, v['quality-attempts'], v['quality-on-failure']);
    if (quality) options.quality = quality;
    const { generation } = options;
    if (generation.minNewTokens !== undefined && generation.minNewTokens > generation.maxNewTokens) {
      rejectOption('--min-new-tokens', `at most --max-new-tokens (${generation.maxNewTokens})`, v['min-new-tokens']);
    }
    const device = choiceOption<Device>('--device', v.device, DEVICES, 'auto');
    const batching = choiceOption<Batching>('--batching', v.batching, BATCHING_MODES, 'continuous');
    const dtype = choiceOption<ModelDtype>('--dtype', v.dtype, Object.keys(MODEL_DTYPES) as ModelDtype[], 'fp32');
    const workers = v.workers === 'auto' ? 'auto' : (intArg('--workers', v.workers, { max: 64 }) ?? 'auto');
    const threads = v.threads === 'auto' ? 'auto' : intArg('--threads', v.threads, { max: 256 });
    const promptLookupTokens = intArg('--prompt-lookup-tokens', v['prompt-lookup-tokens'], { min: 0, max: MAX_DRAFT_TOKENS });
    const promptLookupMaxRows = intArg('--prompt-lookup-max-rows', v['prompt-lookup-max-rows'], { min: 1, max: 1024 });
    if (promptStyle === 'chat') {
      options.chatTemplate = createChatTemplate(loadTokenizerConfig(v.model!));
      if (!options.chatTemplate) {
        throw new TeacherlmError('INVALID_OPTIONS', `--prompt-style: ${v.model} has no chat_template in tokenizer_config.json`, {
          hint: 'use --prompt-style raw',
        });
      }
    }

    const out: LineWriter = v.out ? await fileWriter(v.out) : stdoutWriter();
    const errorsPath = v.errors ?? (v.out ? `${v.out}.errors.jsonl` : undefined);
    const errors: LineWriter = errorsPath ? await fileWriter(errorsPath) : { write: async (line) => void console.error(line), close: async () => {} };
    const progress = createProgress(process.stderr.isTTY ? await countLines(v.in) : undefined);
    options.onProgress = (done) => progress.update(done);
    try {
      let summary;
      if (dryRun) {
        summary = await dryRunFile(options, out, errors);
      } else {
        const { createEngine } = await import('../teacher/create-engine.js');
        const engine = await createEngine({
          modelDir: v.model!,
          dtype,
          onnxFile: v['onnx-file'],
          workers,
          intraOpThreads: threads,
          batching,
          device,
          promptLookupTokens,
          promptLookupMaxRows,
          log: (message) => console.error(`teacherlm: ${message}`),
        });
        try {
          if (options.quality?.checks.faithfulness) {
            const { createContinuationScorer } = await import('../teacher/continuation-scorer.js');
            options.scorer = await createContinuationScorer({ modelDir: v.model!, dtype, onnxFile: v['onnx-file'], device, intraOpThreads: typeof threads === 'number' ? threads : 1 });
          }
          summary = await annotateFile(options, engine, out, errors);
        } finally {
          await Promise.all([engine.close(), options.scorer?.close()]);
        }
      }
      progress.finish();
      const where = errorsPath ? ` (see ${errorsPath})` : '';
      if (summary.malformed > 0) console.error(`teacherlm: ${summary.malformed} malformed line(s) skipped${where}`);
      if (summary.failed > 0) console.error(`teacherlm: ${summary.failed} sample(s) failed to generate${where}`);
      if (summary.rejected > 0) console.error(`teacherlm: ${summary.rejected} sample(s) failed the quality gate${where}`);
      if (summary.quality) console.error(`teacherlm: quality: ${describeQuality(summary.quality)}`);
      if (!dryRun) {
        const rate = summary.generatedTokens / Math.max(summary.elapsedMs / 1000, 1e-3);
        console.error(`teacherlm: annotated ${summary.samples} sample(s), ${summary.generatedTokens} tokens in ${(summary.elapsedMs / 1000).toFixed(1)} s (${rate.toFixed(1)} tokens/s)`);
      }
      return summary.failed > 0 ? 1 : 0;
    } finally {
      await out.close();
      await errors.close();
    }
  },
};
