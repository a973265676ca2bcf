/**
 * `--map id=ex_id,task=task_name`: which input field feeds each RawSample field, for
 * files whose names differ from the RawSample shape.
 */
import { rejectOption } from '../options.js';

export const SAMPLE_FIELDS = ['id', 'task', 'question', 'answer', 'context', 'metadata'] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** RawSample field -> input field name. Fields not mapped are read under their own name. */
export type FieldMap = Readonly<Record<SampleField, string>>;

export const IDENTITY_FIELD_MAP: FieldMap = Object.freeze({
  id: 'id',
  task: 'task',
  question: 'question',
  answer: 'answer',
  context: 'context',
  metadata: 'metadata',
});

/** Parses `field=source,...`; throws INVALID_OPTIONS naming the bad entry. */
export function parseFieldMap(spec: string | undefined, option = '--map'): FieldMap {
  const map: Record<SampleField, string> = { ...IDENTITY_FIELD_MAP };
  if (spec === undefined || spec.trim() === '') return map;
  const seen = new Set<string>();
  for (const entry of spec.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=]+?)\s*$/.exec(entry);
    if (!match) rejectOption(option, 'field=source', entry);
    const [, field, source] = match as unknown as [string, string, string];
    if (!(SAMPLE_FIELDS as readonly string[]).includes(field)) {
      rejectOption(option, `a sample field (${SAMPLE_FIELDS.join(', ')})`, field);
    }
    if (seen.has(field)) rejectOption(option, 'each field mapped once', `${field}=${source}`);
    seen.add(field);
    map[field as SampleField] = source;
  }
  return map;
}
