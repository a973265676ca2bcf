import { TeacherlmError, type ErrorCode } from '../errors.js';

/** Renders a bad value for a validation message: `"x"`, `42`, `null`, `an array`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The error for a field that holds the wrong thing: `question: expected a non-empty string, got 42`. */
export function expectedError(code: ErrorCode, field: string, expected: string, got: unknown): TeacherlmError {
  return new TeacherlmError(code, `${field}: expected ${expected}, got ${describeValue(got)}`);
}
