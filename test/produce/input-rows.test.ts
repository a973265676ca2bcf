import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat, readInputRows, type InputRow } from '../../src/produce/input-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'teacherlm-rows-'));

async function rows(name: string, text: string, format: 'jsonl' | 'csv'): Promise<InputRow[]> {
  const path = join(dir, name);
  writeFileSync(path, text);
  const out: InputRow[] = [];
  for await (const row of readInputRows(path, format)) out.push(row);
  return out;
}

describe('detectFormat', () => {
  it('uses --format, else the extension, and names the problem otherwise', () => {
    expect(detectFormat('a.CSV')).toBe('csv');
    expect(detectFormat('a.jsonl')).toBe('jsonl');
    expect(detectFormat('a.txt', 'csv')).toBe('csv');
    expect(detectFormat('train-00000-of-00001.parquet')).toBe('parquet');
    expect(() => detectFormat('a.txt')).toThrow(/cannot tell the format of 'a.txt'/);
    expect(() => detectFormat('a.csv', 'xml')).toThrow('--format: expected one of jsonl, csv, parquet, got "xml"');
  });
});

describe('readInputRows', () => {
  it('reads JSON lines with line numbers, skipping blank lines and reporting bad ones', async () => {
    const out = await rows('a.jsonl', '{"id":"1"}\n\n{not json}\n[1]\r\n{"id":"4"}', 'jsonl');
    expect(out.map((r) => [r.line, r.record?.id ?? r.error?.split(':')[0]])).toEqual([
      [1, '1'],
      [3, 'not valid JSON'],
      [4, 'sample'],
      [5, '4'],
    ]);
    expect(out[1]?.raw).toBe('{not json}');
  });

  it('reads CSV by header, with quoted multi-line cells, a BOM, and rows of the wrong width', async () => {
    const out = await rows('a.csv', '\uFEFFid, question\n1,"a\nb"\n2\n3,"x"y\n', 'csv');
    expect(out).toEqual([
      { line: 2, record: { id: '1', question: 'a\nb' }, raw: JSON.stringify({ id: '1', question: 'a\nb' }) },
      { line: 4, error: 'line 4: 1 fields, the header has 2', raw: '{"id":"2"}' },
      { line: 5, error: "line 5: unexpected 'y' after a closing quote", raw: '{"id":"3","question":"xy"}' },
    ]);
  });

  it('fails with IO_FAILED for a missing file', async () => {
    await expect(rows('missing', '', 'jsonl').then(() => readInputRows(join(dir, 'nope.jsonl'), 'jsonl').next())).rejects.toMatchObject({
      code: 'IO_FAILED',
    });
  });
});
