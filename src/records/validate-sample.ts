/**
 * Checks that a decoded value is a RawSample, with messages naming the bad field
 * (`question: expected a non-empty string, got true`). Unknown fields are ignored; a finite
 * number in a text field (id, task, question, answer) becomes its decimal text.
 */
import type { TeacherlmError } from '../errors.js';
import { expectedError } from '../options.js';
import type { RawSample } from './types.js';

function invalid(field: string, expected: string, got: unknown): TeacherlmError {
  return expectedError('INVALID_SAMPLE', field, expected, got);
}

/** Numbers are taken as their text (ids are often numeric), wherever the sample came from: produce, kcat, a file. */
function requireText(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'a non-empty string', value);
  return value;
}

/** The value as a RawSample (context defaults to null, metadata to {}); INVALID_SAMPLE otherwise. */
export function validateRawSample(value: unknown): RawSample {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('sample', 'an object', value);
  }
  const record = value as Record<string, unknown>;
  const sample: RawSample = {
    id: requireText(record, 'id'),
    task: requireText(record, 'task'),
    question: requireText(record, 'question'),
    answer: requireText(record, 'answer'),
    context: null,
    metadata: {},
  };
  const context = record.context;
  if (context !== undefined && context !== null) {
    if (typeof context !== 'string') throw invalid('context', 'a string or null', context);
    sample.context = context;
  }
  const metadata = record.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('metadata', 'an object of strings', metadata);
    const copy: Record<string, string> = {};
    for (const [key, item] of Object.entries(metadata as Record<string, unknown>)) {
      if (typeof item !== 'string') throw invalid(`metadata.${key}`, 'a string', item);
      copy[key] = item;
    }
    sample.metadata = copy;
  }
  return sample;
}
