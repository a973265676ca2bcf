/**
 * The one vocabulary for checking values at a boundary (API options, CLI flags,
 * environment variables, topology files, input samples). Every failure is a
 * TeacherlmError in one message shape that names the field:
 * `<field>: expected <what>, got <value>`, e.g. `--max: expected a positive integer, got "0"`.
 *
 * Numbers come two ways: as numbers (API options: {@link intOption}) or as the text a
 * user typed (flags, environment: {@link intArg}, {@link numberArg}); both check the same
 * ranges with the same words.
 */
import { TeacherlmError, type ErrorCode } from './errors.js';

/** Renders a bad value for a message: `"x"`, `42`, `null`, `nothing`, `an array`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * `<field>: expected <expected>, got <value>` as a TeacherlmError of `code`. Without a
 * value (`got` left out) the message ends after `<expected>`.
 */
export function expectedError(code: ErrorCode, field: string, expected: string, ...got: [] | [unknown]): TeacherlmError {
  const message = got.length === 0 ? `${field}: expected ${expected}` : `${field}: expected ${expected}, got ${describeValue(got[0])}`;
  return new TeacherlmError(code, message);
}

/** Throws INVALID_OPTIONS as `<field>: expected <expected>, got <value>`. */
export function rejectOption(field: string, expected: string, ...got: [] | [unknown]): never {
  throw expectedError('INVALID_OPTIONS', field, expected, ...got);
}

export interface IntRange {
  /** Default 1. */
  min?: number;
  /** Default Number.MAX_SAFE_INTEGER (no upper bound). */
  max?: number;
}

/** The words for an integer range: `a positive integer`, `a non-negative integer`, `an integer >= 128`, `an integer from 1 to 64`. */
export function integerWords({ min = 1, max = Number.MAX_SAFE_INTEGER }: IntRange): string {
  if (max < Number.MAX_SAFE_INTEGER) return `an integer from ${min} to ${max}`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  return `an integer >= ${min}`;
}

/** An integer option given as a number: `fallback` when undefined, else an integer in `range`. */
export function intOption(field: string, value: unknown, fallback: number, range: IntRange = {}): number {
  if (value === undefined) return fallback;
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) rejectOption(field, integerWords(range), value);
  return value;
}

/** An integer typed by a user (flag, environment variable): undefined when absent, else decimal digits in `range`. */
export function intArg(field: string, text: string | undefined, range: IntRange = {}): number | undefined {
  if (text === undefined) return undefined;
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  const n = Number(text.trim());
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) rejectOption(field, integerWords(range), text);
  return n;
}

/** A number typed by a user: undefined when absent, else a finite number within [min, max]. */
export function numberArg(field: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) rejectOption(field, `a number from ${min} to ${max}`, text);
  return n;
}

/** One of `choices`: `fallback` when undefined (if given), else INVALID_OPTIONS listing them. */
export function choiceOption<T extends string>(field: string, value: unknown, choices: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !Object.hasOwn(Object.fromEntries(choices.map((c) => [c, true])), value)) {
    rejectOption(field, `one of ${choices.join(', ')}`, value);
  }
  return value as T;
}

/** A non-empty string (after trimming). */
export function nonEmptyString(field: string, value: unknown, what = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.trim() === '') rejectOption(field, what, value);
  return value;
}
