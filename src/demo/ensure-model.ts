/**
 * The demo's "import the default model if it is missing": every ONNX teacher's model
 * folder must load; a missing default model (SmolLM2) is imported with the models
 * helper's `importModel`, anything else missing is an error with a hint.
 */
import { join, resolve } from 'node:path';
import { isTeacherlmError } from '../errors.js';
import type { Topology } from '../pipeline/topology.js';
import { KNOWN_MODELS, importModel, type ImportOptions } from '../teacher/model-import.js';
import { loadModelFiles } from '../teacher/model-files.js';

export interface EnsureModelsOptions {
  /** The project root: models/ and tools/ live there. */
  root: string;
  log: (line: string) => void;
  /** Replaceable in tests. */
  importer?: (name: string, options: ImportOptions) => Promise<unknown>;
  load?: (dir: string) => unknown;
}

/** Returns the names of the models it imported. */
export async function ensureModels(topology: Topology, options: EnsureModelsOptions): Promise<string[]> {
  const load = options.load ?? loadModelFiles;
  const importer = options.importer ?? importModel;
  const imported: string[] = [];
  const dirs = new Set(topology.teachers.filter((t) => t.kind === 'onnx').map((t) => resolve(t.model)));
  for (const dir of dirs) {
    try {
      load(dir);
      continue;
    } catch (err) {
      const known = Object.entries(KNOWN_MODELS).find(([, m]) => resolve(join(options.root, m.outDir)) === dir);
      if (!known || !isTeacherlmError(err, 'MODEL_INVALID')) throw err;
      const [name, model] = known;
      options.log(`the teacher model ${model.displayName} is missing: importing it (teacherlm model import ${name}, a few minutes the first time)`);
      await importer(name, { root: options.root, log: options.log });
      load(dir);
      imported.push(name);
    }
  }
  return imported;
}
