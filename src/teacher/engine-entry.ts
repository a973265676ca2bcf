// Temporary: generation lands with the worker pool; until then file mode offers --dry-run.
import { TeacherlmError } from '../errors.js';
import type { EngineOptions } from './engine-options.js';
import type { TextGenerator } from './types.js';
export async function createEngine(_options: EngineOptions): Promise<TextGenerator> {
  throw new TeacherlmError('INVALID_OPTIONS', 'generation is not built yet; use --dry-run');
}
