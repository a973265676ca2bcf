/**
 * One JSON line of an input file -> a validated RawSample. Validation is the pipeline's
 * own (`mapToSample`), so file mode accepts exactly what `produce` and the stream accept,
 * with the same messages naming the bad field.
 */
import { parseJsonObject } from '../records/json-object.js';
import { mapToSample } from '../records/map-sample.js';
import type { RawSample } from '../records/types.js';
import type { FieldMap } from '../records/field-map.js';

/**
 * Parses and validates one line. Throws DECODE_FAILED for bad JSON and INVALID_SAMPLE for a
 * record that is not a RawSample; both messages name the problem.
 */
export function parseSampleLine(line: string, map: FieldMap): RawSample {
  return mapToSample(parseJsonObject(line), map, false);
}
