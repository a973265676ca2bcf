import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { produceCommand } from '../../src/cli/produce-command.js';

describe('teacherlm produce, before any broker is reached', () => {
  it('names a directory as a directory, not as a file of unknown format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'produce-dir-'));
    await expect(produceCommand.run([dir])).rejects.toMatchObject({ code: 'IO_FAILED', message: `'${dir}' is a directory, not a file of samples` });
  });

  it('names a missing file as unreadable', async () => {
    await expect(produceCommand.run([join(tmpdir(), 'no-such-file.jsonl')])).rejects.toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining('cannot read') });
  });
});
