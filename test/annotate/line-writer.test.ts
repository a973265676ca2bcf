import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileWriter } from '../../src/annotate/line-writer.js';
import { isTeacherlmError } from '../../src/errors.js';

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('fileWriter', () => {
  it('writes one line per call', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'line-writer-')), 'out.jsonl');
    const w = await fileWriter(path);
    await w.write('a');
    await w.write('b');
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
  });

  it('fails with IO_FAILED naming the file when it cannot be opened', async () => {
    const path = join(tmpdir(), 'no-such-dir-for-line-writer', 'out.jsonl');
    const err = await caught(fileWriter(path));
    expect(isTeacherlmError(err, 'IO_FAILED')).toBe(true);
    expect((err as Error).message).toContain(path);
  });

  it.skipIf(!existsSync('/dev/full'))('fails with IO_FAILED when the disk fills while waiting for drain', async () => {
    const w = await fileWriter('/dev/full');
    // Larger than the stream's buffer, so write() waits for 'drain' and the error lands there.
    const err = await caught(w.write('x'.repeat(1 << 20)));
    expect(isTeacherlmError(err, 'IO_FAILED')).toBe(true);
    expect((err as Error).message).toContain('/dev/full');
  });
});
