/**
 * The feed's manifest, `manifest.json` in the output folder: every sealed shard with the
 * offset range it holds per partition, and the next offset to write per partition. It is
 * the truth about what the shards hold: a shard joins it only after the shard is
 * durable, and offsets are committed to the group only after that. On start, files the
 * manifest does not name (a shard renamed just before a crash, a temporary shard) are
 * removed, and records below its next offsets are dropped, so nothing is written twice
 * and, since commits never pass it, nothing is skipped.
 */
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TeacherlmError } from '../errors.js';
import type { AnnotationKind } from '../teacher/types.js';
import { fsyncDir, writeFileDurably } from './durable-files.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;

/** First and last offset of one partition's records in a shard. */
export interface OffsetRange {
  first: number;
  last: number;
}

/** A record that could not be turned into sequences: kept here, so it is counted once and never lost. */
export interface SkippedRecord {
  partition: number;
  offset: number;
  error: string;
}

export interface ShardEntry {
  file: string;
  /** Kafka records (samples) whose offsets the shard covers. */
  records: number;
  /** Lines of the shard. */
  sequences: number;
  kinds: AnnotationKind[];
  /** By partition number. */
  offsets: Record<string, OffsetRange>;
  skipped: SkippedRecord[];
  sealedAt: string;
}

export interface Manifest {
  version: number;
  topic: string;
  shards: ShardEntry[];
  /** Next offset to write, by partition number: the offset a restart resumes at. */
  next: Record<string, number>;
}

/** Reads the folder's manifest, or an empty one for `topic`; a manifest of another topic is refused. */
export function loadManifest(dir: string, topic: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return { version: MANIFEST_VERSION, topic, shards: [], next: {} };
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `${path}: not a readable manifest: ${(err as Error).message}`, { cause: err });
  }
  if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.shards) || typeof manifest.next !== 'object') {
    throw new TeacherlmError('IO_FAILED', `${path}: not a version ${MANIFEST_VERSION} student-feed manifest`);
  }
  if (manifest.topic !== topic) {
    throw new TeacherlmError('INVALID_OPTIONS', `--out: ${dir} holds shards of topic '${manifest.topic}', not '${topic}'`, {
      hint: 'give each topic its own output folder',
    });
  }
  return manifest;
}

/**
 * Removes what a crash left that the manifest does not name: temporary files and shards
 * renamed but not yet recorded (their records were never committed and will be read
 * again). Returns the names removed.
 */
export function removeUnrecorded(dir: string, manifest: Manifest): string[] {
  const named = new Set(manifest.shards.map((s) => s.file));
  const removed = readdirSync(dir).filter((f) => f.endsWith('.tmp') || (isShardFile(f) && !named.has(f)));
  for (const f of removed) unlinkSync(join(dir, f));
  if (removed.length > 0) fsyncDir(dir);
  return removed;
}

export function saveManifest(dir: string, manifest: Manifest): void {
  writeFileDurably(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
}

/** `shard-000001.jsonl`, numbered from 1 in sealing order. */
export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(6, '0')}.jsonl`;
}

function isShardFile(name: string): boolean {
  return /^shard-\d{6,}\.jsonl$/.test(name);
}
