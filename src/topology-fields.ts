/**
 * The checks a topology file's fields go through, in one message shape
 * (`<field>: expected <what>, got <value>`, INVALID_TOPOLOGY), shared by every section's
 * parser (src/pipeline/topology.ts, src/quality/quality-options.ts).
 */
import { TeacherlmError } from './errors.js';
import { expectedError } from './options.js';

export type Obj = Record<string, unknown>;

export function fail(field: string, expected: string, got: unknown): never {
  throw expectedError('INVALID_TOPOLOGY', field, expected, got);
}

export function object(value: unknown, field: string, known: readonly string[]): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field || 'topology', 'a mapping', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TeacherlmError('INVALID_TOPOLOGY', `${field ? `${field}.` : ''}${key}: unknown field (known: ${known.join(', ')})`);
    }
  }
  return value as Obj;
}

export function optionalObject(value: unknown, field: string, known: readonly string[]): Obj {
  return value === undefined || value === null ? {} : object(value, field, known);
}

export function text(value: unknown, field: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') fail(field, 'a non-empty string', value);
  return value;
}

export function number(value: unknown, field: string, fallback: number, opts: { integer?: boolean; min?: number; positive?: boolean }): number {
  if (value === undefined) return fallback;
  const expected = `a ${opts.positive ? 'positive' : opts.min === 0 ? 'non-negative' : ''}${opts.positive || opts.min === 0 ? ' ' : ''}${opts.integer ? 'integer' : 'number'}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, expected, value);
  if (opts.integer && !Number.isInteger(value)) fail(field, expected, value);
  if (opts.positive && value <= 0) fail(field, expected, value);
  if (opts.min !== undefined && value < opts.min) fail(field, expected, value);
  return value;
}

/** A positive integer, or the word `auto` (left for the engine to choose). */
export function countOrAuto(value: unknown, field: string, fallback: number | 'auto'): number | 'auto' {
  if (value === undefined) return fallback;
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(field, "a positive integer or 'auto'", value);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(field, `one of ${allowed.join(', ')}`, value);
  return value as T;
}
