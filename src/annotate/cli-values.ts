/** `--kinds`: which annotations file mode writes. */
import { ANNOTATION_KINDS, type AnnotationKind } from '../teacher/types.js';
import { choiceOption, rejectOption } from '../options.js';

/** `fundamentals,cot,mistakes` -> distinct kinds in the given order. */
export function kindsOption(value: string | undefined): AnnotationKind[] {
  if (value === undefined) return [...ANNOTATION_KINDS];
  const kinds: AnnotationKind[] = [];
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kind = choiceOption('--kinds', part, ANNOTATION_KINDS);
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  if (kinds.length === 0) rejectOption('--kinds', `at least one of ${ANNOTATION_KINDS.join(', ')}`, value);
  return kinds;
}
