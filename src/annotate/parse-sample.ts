/** One JSON line of an input file -> a validated RawSample, or a reason naming the bad field. */
import { TeacherlmError } from '../errors.js';
import type { RawSample } from '../teacher/types.js';
import type { FieldMap } from './field-map.js';

/** `'question'`, or `'question' (read from 'q_text')` under a --map. */
function fieldLabel(field: string, source: string): string {
  return source === field ? `'${field}'` : `'${field}' (read from '${source}')`;
}

function requiredText(record: Record<string, unknown>, source: string, field: string, allowNumber: boolean): string {
  const value = record[source];
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (allowNumber && typeof value === 'number' && Number.isFinite(value)) return String(value);
  const label = fieldLabel(field, source);
  if (value === undefined || value === null) throw new TeacherlmError('INVALID_SAMPLE', `field ${label} is missing`);
  throw new TeacherlmError('INVALID_SAMPLE', `field ${label} must be a non-empty ${allowNumber ? 'string or number' : 'string'}`);
}

/**
 * Parses and validates one line. Throws DECODE_FAILED for bad JSON and INVALID_SAMPLE for a
 * record that is not a RawSample; both messages name the problem.
 */
export function parseSampleLine(line: string, map: FieldMap): RawSample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new TeacherlmError('DECODE_FAILED', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TeacherlmError('INVALID_SAMPLE', 'a sample must be a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const sample: RawSample = {
    id: requiredText(record, map.id, 'id', true),
    task: requiredText(record, map.task, 'task', false),
    question: requiredText(record, map.question, 'question', false),
    answer: requiredText(record, map.answer, 'answer', true),
  };
  const context = record[map.context];
  if (context !== undefined && context !== null) {
    if (typeof context !== 'string') throw new TeacherlmError('INVALID_SAMPLE', `field ${fieldLabel('context', map.context)} must be a string or null`);
    sample.context = context;
  }
  const metadata = record[map.metadata];
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new TeacherlmError('INVALID_SAMPLE', `field ${fieldLabel('metadata', map.metadata)} must be an object of strings`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new TeacherlmError('INVALID_SAMPLE', `field 'metadata.${key}' must be a string`);
    }
    sample.metadata = metadata as Record<string, string>;
  }
  return sample;
}
