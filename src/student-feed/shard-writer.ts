/**
 * One open shard: JSON lines appended to a temporary file (`.shard-N.jsonl.tmp`), then
 * sealed: fsync'd, renamed to `shard-N.jsonl` and the folder fsync'd. It tracks the
 * offset range it holds per partition, for the manifest. Writes are synchronous: the
 * feed is one consumer writing one file, and a shard is sealed between two records.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AnnotationKind } from '../teacher/types.js';
import { durableRename } from './durable-files.js';
import { shardFileName, type OffsetRange, type ShardEntry, type SkippedRecord } from './manifest.js';
import type { TrainingSequence } from './sequences.js';

export class ShardWriter {
  readonly file: string;
  readonly openedAt: number;
  private readonly tmpPath: string;
  private readonly fd: number;
  private readonly offsets: Record<string, OffsetRange> = {};
  private readonly skipped: SkippedRecord[] = [];
  private recordCount = 0;
  private lineCount = 0;
  private sealed = false;

  constructor(
    private readonly dir: string,
    index: number,
    private readonly kinds: AnnotationKind[],
    now: number,
  ) {
    this.file = shardFileName(index);
    this.tmpPath = join(dir, `.${this.file}.tmp`);
    this.fd = openSync(this.tmpPath, 'w');
    this.openedAt = now;
  }

  /** Lines written so far. */
  get sequences(): number {
    return this.lineCount;
  }

  /** Kafka records covered so far (written or skipped). */
  get records(): number {
    return this.recordCount;
  }

  /** The sequences of the record at `partition`/`offset` (none is fine: it is still covered). */
  append(partition: number, offset: number, sequences: TrainingSequence[]): void {
    if (sequences.length > 0) {
      writeSync(this.fd, sequences.map((s) => `${JSON.stringify({ id: s.id, task: s.task, kind: s.kind, text: s.text })}\n`).join(''));
    }
    this.lineCount += sequences.length;
    this.cover(partition, offset);
  }

  /** A record that made no sequences, with why; the manifest keeps it. */
  skip(partition: number, offset: number, error: string): void {
    this.skipped.push({ partition, offset, error });
    this.cover(partition, offset);
  }

  /** Due once it holds `maxSequences` lines, or `maxAgeMs` after it opened with something in it. */
  isDue(now: number, maxSequences: number, maxAgeMs: number): boolean {
    return this.lineCount >= maxSequences || (this.recordCount > 0 && now - this.openedAt >= maxAgeMs);
  }

  /** fsync, rename to the final name, fsync the folder: the shard is durable when this returns. */
  seal(now: number): ShardEntry {
    this.close();
    durableRename(this.tmpPath, join(this.dir, this.file));
    return {
      file: this.file,
      records: this.recordCount,
      sequences: this.lineCount,
      kinds: [...this.kinds],
      offsets: { ...this.offsets },
      skipped: [...this.skipped],
      sealedAt: new Date(now).toISOString(),
    };
  }

  /** Closes without sealing (an empty shard at shutdown); the temporary file is left for the next start to remove. */
  close(): void {
    if (this.sealed) return;
    this.sealed = true;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  private cover(partition: number, offset: number): void {
    this.recordCount++;
    const range = this.offsets[partition];
    if (range === undefined) this.offsets[partition] = { first: offset, last: offset };
    else range.last = offset;
  }
}
