/**
 * One JSON line of an input file -> a validated RawSample. Validation is the pipeline's
 * own (`mapToSample`), so file mode accepts exactly what `produce` and the stream accept,
 * with the same messages naming the bad field.
 */
import { TeacherlmError } from '../errors.js';
import { mapToSample } from '../produce/map-sample.js';
import type { RawSample } from '../records/types.js';
import type { FieldMap } from './field-map.js';

/**
 * Parses one JSON object. Throws DECODE_FAILED for bad JSON and INVALID_SAMPLE for JSON
 * that is not an object (null, an array, a scalar).
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TeacherlmError('DECODE_FAILED', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TeacherlmError('INVALID_SAMPLE', 'a sample must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parses and validates one line. Throws DECODE_FAILED for bad JSON and INVALID_SAMPLE for a
 * record that is not a RawSample; both messages name the problem.
 */
export function parseSampleLine(line: string, map: FieldMap): RawSample {
  return mapToSample(parseJsonObject(line), map, false);
}
