/**
 * `teacherlm annotate --quality FILE`: the gate's settings from a YAML file's `quality:`
 * section (a topology, such as topologies/default.yaml, or a file holding only that
 * section), validated by the same `parseQuality` as `teacherlm run`'s topology.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TeacherlmError } from '../errors.js';
import { DEFAULT_QUALITY, parseQuality, type QualitySpec } from './quality-options.js';

export function loadQualityFile(path: string): QualitySpec {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TeacherlmError('INVALID_OPTIONS', `--quality: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || !('quality' in doc)) {
    throw new TeacherlmError('INVALID_OPTIONS', `--quality: ${path} has no 'quality:' section`, { hint: 'see the README, "Quality gate"' });
  }
  try {
    return parseQuality((doc as { quality: unknown }).quality) ?? { ...DEFAULT_QUALITY };
  } catch (err) {
    throw new TeacherlmError('INVALID_OPTIONS', `--quality ${path}: ${(err as Error).message}`, { cause: err });
  }
}
