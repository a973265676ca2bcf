/** Non-blank lines of a text file with their 1-based line numbers, streamed. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { TeacherlmError } from '../errors.js';

export interface NumberedLine {
  lineNo: number;
  text: string;
}

/** Throws IO_FAILED naming the file when it cannot be read. */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo += 1;
      if (text.trim() !== '') yield { lineNo, text };
    }
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    lines.close();
    input.destroy();
  }
}
