/** One line of JSON that must be an object (a sample, an input row): the check and messages shared by file mode and produce. */
import { TeacherlmError } from '../errors.js';
import { expectedError } from '../options.js';

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
    throw expectedError('INVALID_SAMPLE', 'sample', 'a JSON object', parsed);
  }
  return parsed as Record<string, unknown>;
}
