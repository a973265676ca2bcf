/** One line of JSON that must be an object (a sample, an input row): the check and messages shared by file mode and produce. */
import { TeacherlmError } from '../errors.js';

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
