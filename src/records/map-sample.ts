/**
 * One input row -> a RawSample, through `--map` (RawSample field -> input field) and the
 * pipeline's own validation (`validateRawSample`), so what `produce` accepts is exactly
 * what the pipeline accepts (numbers in the text fields become strings there); an empty
 * CSV cell for `context` means no context.
 */
import type { FieldMap } from './field-map.js';
import { TeacherlmError, isTeacherlmError } from '../errors.js';
import { validateRawSample } from './validate-sample.js';
import type { RawSample } from './types.js';

const TEXT_FIELDS = ['id', 'task', 'question', 'answer'] as const;

export function mapToSample(record: Record<string, unknown>, map: FieldMap, fromCsv: boolean): RawSample {
  const mapped: Record<string, unknown> = {};
  for (const field of TEXT_FIELDS) {
    mapped[field] = record[map[field]];
  }
  const context = record[map.context];
  mapped.context = fromCsv && context === '' ? null : context;
  let metadata = record[map.metadata];
  if (fromCsv && typeof metadata === 'string') metadata = metadata === '' ? undefined : parseMetadataCell(metadata, map.metadata);
  mapped.metadata = metadata;
  try {
    return validateRawSample(mapped);
  } catch (err) {
    throw isTeacherlmError(err) ? withSourceName(err, map) : err;
  }
}

function parseMetadataCell(cell: string, column: string): unknown {
  try {
    return JSON.parse(cell);
  } catch {
    throw new TeacherlmError('INVALID_SAMPLE', `metadata: the column '${column}' must hold a JSON object of strings`);
  }
}

/** `question: expected ...` becomes `question (read from 'q_text'): expected ...`. */
function withSourceName(err: TeacherlmError, map: FieldMap): TeacherlmError {
  const field = /^(\w+)/.exec(err.message)?.[1] as keyof FieldMap | undefined;
  const source = field === undefined ? undefined : map[field];
  if (source === undefined || source === field) return err;
  return new TeacherlmError(err.code, err.message.replace(field!, `${field} (read from '${source}')`), { cause: err });
}
