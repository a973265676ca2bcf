/**
 * Reads an input file as rows of named fields: JSON lines (one object per line), CSV
 * with a header row, or Parquet (`parquet.ts`; a row's `line` is its 1-based row number).
 * Streams the file, so its size does not matter; malformed rows come out with their line
 * number and reason instead of stopping the read.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TeacherlmError } from '../errors.js';
import { choiceOption } from '../options.js';
import { parseJsonObject } from '../records/json-object.js';
import { CsvParser } from './csv.js';
import type { InputRow } from './input-row.js';
import { parquetRows } from './parquet.js';

export const FILE_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export type { InputRow } from './input-row.js';

const EXTENSIONS: Record<string, FileFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'jsonl', '.csv': 'csv', '.parquet': 'parquet' };

/** `--format` when given, else the file extension; INVALID_OPTIONS naming both otherwise. */
export function detectFormat(path: string, explicit?: string): FileFormat {
  if (explicit !== undefined) {
    return choiceOption('--format', explicit, FILE_FORMATS);
  }
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (!format) {
    throw new TeacherlmError('INVALID_OPTIONS', `cannot tell the format of '${path}' from its extension`, {
      hint: `name it .jsonl, .csv or .parquet, or pass --format ${FILE_FORMATS.join('|')}`,
    });
  }
  return format;
}

/** Text chunks of a file, reporting bytes read so far. IO_FAILED when it cannot be read. */
async function* chunks(path: string, onBytes: (bytes: number) => void): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      bytes += (chunk as Buffer).length;
      onBytes(bytes);
      yield decoder.write(chunk as Buffer);
    }
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot read '${path}': ${(err as Error).message}`, { cause: err });
  }
  yield decoder.end();
}

export async function* readInputRows(path: string, format: FileFormat, onBytes: (bytes: number) => void = () => {}): AsyncGenerator<InputRow> {
  if (format === 'parquet') {
    yield* parquetRows(path, onBytes);
    return;
  }
  const text = chunks(path, onBytes);
  yield* format === 'csv' ? csvRows(text) : jsonRows(text);
}

async function* jsonRows(text: AsyncIterable<string>): AsyncGenerator<InputRow> {
  let rest = '';
  let line = 0;
  const row = (raw: string): InputRow | undefined => {
    line++;
    const trimmed = raw.trim();
    if (trimmed === '') return undefined;
    try {
      return { line, raw: trimmed, record: parseJsonObject(trimmed) };
    } catch (err) {
      return { line, raw: trimmed, error: (err as Error).message };
    }
  };
  for await (const chunk of text) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) {
      const out = row(part);
      if (out) yield out;
    }
  }
  const last = row(rest);
  if (last) yield last;
}

async function* csvRows(text: AsyncIterable<string>): AsyncGenerator<InputRow> {
  const csv = new CsvParser();
  let header: string[] | undefined;
  for await (const chunk of text) {
    for (const row of csv.push(chunk)) {
      const out = toInputRow(row, header);
      if (header === undefined) {
        if (row.error) throw new TeacherlmError('INVALID_OPTIONS', `the CSV header is malformed: ${row.error}`);
        header = row.fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
      } else if (out) yield out;
    }
  }
  for (const row of csv.end()) {
    const out = header ? toInputRow(row, header) : undefined;
    if (out) yield out;
  }
}

function toInputRow(row: { line: number; fields: string[]; error?: string }, header: string[] | undefined): InputRow | undefined {
  if (!header) return undefined;
  const record: Record<string, string> = {};
  header.forEach((name, i) => {
    if (i < row.fields.length) record[name] = row.fields[i]!;
  });
  const raw = JSON.stringify(record);
  if (row.error) return { line: row.line, raw, error: row.error };
  if (row.fields.length !== header.length) {
    return { line: row.line, raw, error: `line ${row.line}: ${row.fields.length} fields, the header has ${header.length}` };
  }
  return { line: row.line, raw, record };
}
