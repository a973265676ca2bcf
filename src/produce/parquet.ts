/**
 * Rows of a Parquet file (what Hugging Face datasets ship), read with hyparquet (pure JS,
 * no native code; snappy-compressed or uncompressed pages, as pyarrow and the Hub write
 * by default), one row group at a time so the file's size does not matter. 64-bit
 * integers come back as numbers when they are safe, else as strings.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { TeacherlmError } from '../errors.js';
import type { InputRow } from './input-row.js';

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export async function* parquetRows(path: string, onBytes: (bytes: number) => void = () => {}): AsyncGenerator<InputRow> {
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot read '${path}' as Parquet: ${(err as Error).message}`, { cause: err });
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd });
    } catch (err) {
      throw new TeacherlmError('IO_FAILED', `cannot read rows ${rowStart + 1}-${rowEnd} of '${path}': ${(err as Error).message}`, { cause: err });
    }
    for (const [i, row] of rows.entries()) {
      const record = plain(row) as Record<string, unknown>;
      yield { line: rowStart + i + 1, record, raw: JSON.stringify(record) };
    }
    rowStart = rowEnd;
    onBytes(Math.round((file.byteLength * rowEnd) / Math.max(1, Number(metadata.num_rows))));
  }
}
