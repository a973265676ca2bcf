/** Counts non-blank lines (for a progress bar's total); cheap next to generation. */
import { readLines } from './read-lines.js';

export async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readLines(path)) n += 1;
  return n;
}
