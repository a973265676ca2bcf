/** Typed parsing of CLI option strings; every error names the option it is about. */
import { TeacherlmError } from '../errors.js';
import { ANNOTATION_KINDS, type AnnotationKind } from '../teacher/types.js';

export function intOption(name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new TeacherlmError('INVALID_OPTIONS', `--${name}: expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got '${value}'`);
  }
  return n;
}

export function numberOption(name: string, value: string | undefined, fallback: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new TeacherlmError('INVALID_OPTIONS', `--${name}: expected a number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

export function choiceOption<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new TeacherlmError('INVALID_OPTIONS', `--${name}: expected one of ${choices.join(', ')}, got '${value}'`);
  }
  return value as T;
}

/** `fundamentals,cot,mistakes` -> distinct kinds in the given order. */
export function kindsOption(value: string | undefined): AnnotationKind[] {
  if (value === undefined) return [...ANNOTATION_KINDS];
  const kinds: AnnotationKind[] = [];
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kind = choiceOption('kinds', part, ANNOTATION_KINDS, 'cot');
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  if (kinds.length === 0) throw new TeacherlmError('INVALID_OPTIONS', `--kinds: name at least one of ${ANNOTATION_KINDS.join(', ')}`);
  return kinds;
}
