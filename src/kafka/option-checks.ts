/** Checks for the Kafka edges' numeric options, with messages that name the field. */
import { TeacherlmError } from '../errors.js';

export function invalidOption(message: string): TeacherlmError {
  return new TeacherlmError('INVALID_OPTIONS', message);
}

/** `value`, or `fallback` when it is undefined; INVALID_OPTIONS unless a positive integer. */
export function positiveInt(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw invalidOption(`${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** `value`, or `fallback` when it is undefined; INVALID_OPTIONS unless an integer >= 0. */
export function nonNegativeInt(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw invalidOption(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}
