/**
 * A streaming CSV parser (RFC 4180): comma-separated fields, fields in double quotes may
 * hold commas, line breaks and doubled quotes (`""`), rows end with LF or CRLF. Fed in
 * chunks of any size, it emits each row with the line number where the row starts.
 *
 * Malformed rows do not stop the parse: text after a closing quote, or a quote left open
 * at the end of the input, yields a row `error` naming the line, and parsing goes on at
 * the next row.
 *
 * @example
 * const csv = new CsvParser();
 * for (const row of [...csv.push('id,q\n1,"a, b"\n'), ...csv.end()]) console.log(row.line, row.fields);
 */

export interface CsvRow {
  /** 1-based line where the row starts. */
  line: number;
  fields: string[];
  /** Set when the row is malformed; `fields` then holds what was read. */
  error?: string;
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' | 'afterQuote';

export class CsvParser {
  private state: State = 'fieldStart';
  private field = '';
  private fields: string[] = [];
  private line = 1;
  private rowLine = 1;
  private error: string | undefined;
  private pendingCR = false;

  /** Parses a chunk; returns the rows it completed. */
  push(chunk: string): CsvRow[] {
    const rows: CsvRow[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (ch === '\n') continue; // CRLF: the CR already ended the row
      }
      switch (this.state) {
        case 'quoted':
          if (ch === '"') this.state = 'quoteInQuoted';
          else {
            if (ch === '\n') this.line++;
            this.field += ch;
          }
          break;
        case 'quoteInQuoted':
          if (ch === '"') {
            this.field += '"';
            this.state = 'quoted';
          } else {
            this.state = 'afterQuote';
            i--; // re-read as the character after a closed quoted field
          }
          break;
        case 'afterQuote':
          if (ch === ',' || ch === '\n' || ch === '\r') {
            this.state = 'unquoted';
            i--;
          } else {
            this.error ??= `line ${this.line}: unexpected '${ch}' after a closing quote`;
            this.field += ch;
          }
          break;
        case 'fieldStart':
          if (ch === '"') {
            this.state = 'quoted';
            break;
          }
          this.state = 'unquoted';
          i--; // re-read as the first character of an unquoted field
          break;
        case 'unquoted':
          if (ch === ',') {
            this.fields.push(this.field);
            this.field = '';
            this.state = 'fieldStart';
          } else if (ch === '\n' || ch === '\r') {
            this.pendingCR = ch === '\r';
            const row = this.endRow();
            if (row) rows.push(row);
            this.line++;
            this.rowLine = this.line;
          } else {
            this.field += ch;
          }
          break;
      }
    }
    return rows;
  }

  /** Ends the input; returns the last row if it had no line break. */
  end(): CsvRow[] {
    if (this.state === 'quoted') {
      this.error ??= `line ${this.rowLine}: a quoted field is not closed before the end of the input`;
    }
    if (this.state === 'fieldStart' && this.fields.length === 0 && this.field === '') return [];
    const row = this.endRow();
    return row ? [row] : [];
  }

  private endRow(): CsvRow | undefined {
    this.fields.push(this.field);
    const fields = this.fields;
    const error = this.error;
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.state = 'fieldStart';
    // A blank line is no row.
    if (fields.length === 1 && fields[0] === '' && !error) return undefined;
    return error ? { line: this.rowLine, fields, error } : { line: this.rowLine, fields };
  }
}
