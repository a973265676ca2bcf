import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, removeUnrecorded, saveManifest } from '../../src/student-feed/manifest.js';
import { ShardWriter } from '../../src/student-feed/shard-writer.js';

const seq = (id: string, kind: 'cot' | 'mistakes' = 'cot') => ({ id, task: 'CREAK', kind, text: `Q: ${id}` });
const tempDir = () => mkdtempSync(join(tmpdir(), 'student-feed-'));

describe('ShardWriter', () => {
  it('writes to a temporary name and takes the final name only when sealed, with its offset ranges', () => {
    const dir = tempDir();
    const shard = new ShardWriter(dir, 3, ['cot', 'mistakes'], 1_000);
    shard.append(0, 10, [seq('a'), seq('a', 'mistakes')]);
    shard.append(1, 7, [seq('b')]);
    shard.skip(0, 11, 'unknown writer schema');
    shard.append(0, 12, []);
    expect(readdirSync(dir)).toEqual(['.shard-000003.jsonl.tmp']);
    const entry = shard.seal(2_000);
    expect(readdirSync(dir)).toEqual(['shard-000003.jsonl']);
    expect(entry).toEqual({
      file: 'shard-000003.jsonl',
      records: 4,
      sequences: 3,
      kinds: ['cot', 'mistakes'],
      offsets: { 0: { first: 10, last: 12 }, 1: { first: 7, last: 7 } },
      skipped: [{ partition: 0, offset: 11, error: 'unknown writer schema' }],
      sealedAt: new Date(2_000).toISOString(),
    });
    const lines = readFileSync(join(dir, entry.file), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([seq('a'), seq('a', 'mistakes'), seq('b')]);
  });

  it('is due at its line limit, or at its age limit once it holds a record', () => {
    const shard = new ShardWriter(tempDir(), 1, ['cot'], 0);
    expect(shard.isDue(10_000, 2, 5_000)).toBe(false); // old but empty
    shard.append(0, 0, [seq('a')]);
    expect(shard.isDue(4_999, 2, 5_000)).toBe(false);
    expect(shard.isDue(5_000, 2, 5_000)).toBe(true);
    shard.append(0, 1, [seq('b')]);
    expect(shard.isDue(0, 2, 5_000)).toBe(true);
    shard.close();
  });
});

describe('the manifest', () => {
  it('is the truth on start: files it does not name (a crash before recording) are removed', () => {
    const dir = tempDir();
    const manifest = loadManifest(dir, 'augmented');
    expect(manifest).toEqual({ version: 1, topic: 'augmented', shards: [], next: {} });
    const first = new ShardWriter(dir, 1, ['cot'], 0);
    first.append(0, 0, [seq('a')]);
    manifest.shards.push(first.seal(0));
    manifest.next = { 0: 1 };
    saveManifest(dir, manifest);
    // Killed after renaming shard 2 but before recording it, with shard 3 open.
    const second = new ShardWriter(dir, 2, ['cot'], 0);
    second.append(0, 1, [seq('b')]);
    second.seal(0);
    new ShardWriter(dir, 3, ['cot'], 0).close();
    const reloaded = loadManifest(dir, 'augmented');
    expect(reloaded).toEqual(manifest);
    expect(removeUnrecorded(dir, reloaded).sort()).toEqual(['.shard-000003.jsonl.tmp', 'shard-000002.jsonl']);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'shard-000001.jsonl']);
  });

  it("refuses a folder written from another topic, and a file that is not a manifest, naming them", () => {
    const dir = tempDir();
    saveManifest(dir, { version: 1, topic: 'one', shards: [], next: {} });
    expect(existsSync(join(dir, 'manifest.json.tmp'))).toBe(false);
    expect(() => loadManifest(dir, 'two')).toThrow("holds shards of topic 'one', not 'two'");
    writeFileSync(join(dir, 'manifest.json'), '{"shards": ');
    expect(() => loadManifest(dir, 'one')).toThrow('not a readable manifest');
  });
});
