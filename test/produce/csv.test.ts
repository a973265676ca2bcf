import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRow } from '../../src/produce/csv.js';

function parse(text: string, chunkSize = text.length || 1): CsvRow[] {
  const csv = new CsvParser();
  const rows: CsvRow[] = [];
  for (let i = 0; i < text.length; i += chunkSize) rows.push(...csv.push(text.slice(i, i + chunkSize)));
  rows.push(...csv.end());
  return rows;
}

describe('CsvParser', () => {
  it('splits plain rows and keeps empty fields', () => {
    expect(parse('a,b,c\n1,,3\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '', '3'] },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, numbering lines by row start', () => {
    const text = 'id,question\n1,"Is it ""true"", or not?"\n2,"two\nlines"\n3,x\n';
    expect(parse(text)).toEqual([
      { line: 1, fields: ['id', 'question'] },
      { line: 2, fields: ['1', 'Is it "true", or not?'] },
      { line: 3, fields: ['2', 'two\nlines'] },
      { line: 5, fields: ['3', 'x'] },
    ]);
  });

  it('gives the same rows whatever the chunking', () => {
    const text = 'a,"b\r\nc",""""\r\n"x",y\r\nlast,"row"';
    const whole = parse(text);
    expect(whole).toEqual([
      { line: 1, fields: ['a', 'b\r\nc', '"'] },
      { line: 3, fields: ['x', 'y'] },
      { line: 4, fields: ['last', 'row'] },
    ]);
    for (const size of [1, 2, 3, 5, 7]) expect(parse(text, size)).toEqual(whole);
  });

  it('handles CRLF and a last row without a line break; skips blank lines', () => {
    expect(parse('a,b\r\n\r\n1,2')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
    ]);
    expect(parse('')).toEqual([]);
    expect(parse('\n\n')).toEqual([]);
  });

  it('keeps a quote inside an unquoted field literally', () => {
    expect(parse('5 "inch" screen,b\n')).toEqual([{ line: 1, fields: ['5 "inch" screen', 'b'] }]);
  });

  it('reports text after a closing quote and goes on with the next row', () => {
    expect(parse('"ab"c,d\nok,1\n')).toEqual([
      { line: 1, fields: ['abc', 'd'], error: "line 1: unexpected 'c' after a closing quote" },
      { line: 2, fields: ['ok', '1'] },
    ]);
  });

  it('reports a quote left open at the end', () => {
    expect(parse('a,b\n1,"never closed\n2,3\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', 'never closed\n2,3\n'], error: 'line 2: a quoted field is not closed before the end of the input' },
    ]);
  });
});
