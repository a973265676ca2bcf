/**
 * The student feed: the augmented topic written as training shards, exactly once.
 *
 * Per record: drop it when the manifest (or the open shard) already holds its offset,
 * else decode it with the pipeline's codecs and append its sequences to the open shard.
 * A shard is sealed (durable) when it is full or old, then recorded in the manifest
 * (durable), and only then are the manifest's offsets committed to the group. A kill at
 * any point leaves either an unrecorded file (removed on start, its records read again
 * from the older commit) or a recorded shard whose offsets the next start skips.
 */
import { mkdirSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import { KafkaSource } from '../kafka/source.js';
import type { SourceRecord } from '../pipeline/ports.js';
import { OutputReader } from '../records/output-reader.js';
import { endSpan, messagingAttributes, startConsumerSpan } from '../telemetry/spans.js';
import type { AnnotationKind } from '../teacher/types.js';
import { loadManifest, removeUnrecorded, saveManifest, type Manifest } from './manifest.js';
import { sequencesOf } from './sequences.js';
import { ShardWriter } from './shard-writer.js';

export interface StudentFeedOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  dir: string;
  kinds: AnnotationKind[];
  /** Seal a shard once it holds this many lines. */
  shardSequences: number;
  /** Seal a non-empty shard this long after it opened. */
  shardMs: number;
  /** Stop after this long with no record consumed (counted from the group join). */
  untilIdleMs?: number;
  /** Consumer session timeout: how soon the group forgets a killed feed. */
  sessionTimeoutMs: number;
  log: (event: Record<string, unknown>) => void;
  /** Decodes the topic's records (single-object, or Confluent with a registry); default single-object only. */
  reader?: OutputReader;
}

export interface StudentFeedSummary {
  reason: 'idle' | 'stopped';
  shards: number;
  sequences: number;
  records: number;
  /** Records already in the manifest when they arrived again (after a restart or rebalance). */
  alreadyWritten: number;
  skipped: number;
}

export interface StudentFeed {
  /** Resolves when the feed has stopped, its last shard sealed and committed. */
  done: Promise<StudentFeedSummary>;
  /** Graceful stop: seal what is open, commit, disconnect. */
  stop(): void;
}

export async function startStudentFeed(options: StudentFeedOptions): Promise<StudentFeed> {
  const { kafka, topic, groupId, dir, kinds, log } = options;
  mkdirSync(dir, { recursive: true });
  const manifest = loadManifest(dir, topic);
  const removed = removeUnrecorded(dir, manifest);
  await reconcile(kafka, groupId, topic, manifest, removed, log);

  const reader = options.reader ?? new OutputReader();
  // Records that wait, in order, for a Confluent writer schema to load from the registry.
  const waiting: SourceRecord[] = [];
  const next = new Map<number, number>(Object.entries(manifest.next).map(([p, o]) => [Number(p), o]));
  const counts = { sequences: 0, records: 0, alreadyWritten: 0, skipped: 0, shards: 0 };
  let shard: ShardWriter | undefined;
  let commits: Promise<void> = Promise.resolve();
  let lastActivity = Date.now();
  let joined = false;
  let reason: StudentFeedSummary['reason'] = 'stopped';
  let failure: unknown;
  let stopping: Promise<void> | undefined;
  let disconnected = false;

  const source = new KafkaSource({
    kafka,
    groupId,
    topics: [topic],
    fromBeginning: true,
    lagRefreshMs: 0,
    // read_committed is kafkajs's default; said here because exactly-once depends on it.
    consumer: { readUncommitted: false, sessionTimeout: options.sessionTimeoutMs },
  });

  const seal = () => {
    if (!shard || shard.records === 0) return;
    const entry = shard.seal(Date.now());
    shard = undefined;
    manifest.shards.push(entry);
    manifest.next = Object.fromEntries([...next].sort(([a], [b]) => a - b));
    saveManifest(dir, manifest);
    counts.shards++;
    log({ event: 'shard', file: entry.file, records: entry.records, sequences: entry.sequences, offsets: entry.offsets });
    // After the consumer is gone the manifest alone carries these offsets to the next start.
    if (disconnected) return;
    const offsets = Object.entries(manifest.next).map(([partition, offset]) => ({ topic, partition: Number(partition), offset: String(offset) }));
    // A failed commit (a rebalance) is harmless: the next one carries the same or later offsets.
    commits = commits
      .then(() => source.commit(offsets))
      .then(() => log({ event: 'committed', offsets: manifest.next }))
      .catch((err: unknown) => log({ event: 'commit-failed', message: (err as Error).message }));
  };

  const write = (record: SourceRecord) => {
    lastActivity = Date.now();
    const offset = Number(record.offset);
    if (offset < (next.get(record.partition) ?? 0)) {
      counts.alreadyWritten++;
      return;
    }
    shard ??= new ShardWriter(dir, manifest.shards.length + 1, kinds, Date.now());
    // The sample's trace goes on: a span (a no-op without a tracing SDK) around its decode and append.
    const span = startConsumerSpan(`${topic} process`, record.headers, messagingAttributes('process', { topic, partition: record.partition, offset: record.offset }));
    try {
      const decoded = reader.decode(record.value);
      if (decoded.kind !== 'augmented') throw new TeacherlmError('DECODE_FAILED', 'a dead letter, not an AugmentedSample');
      const sequences = sequencesOf(decoded.record, kinds);
      shard.append(record.partition, offset, sequences);
      counts.sequences += sequences.length;
      span.setAttribute('teacherlm.sequences', sequences.length);
      endSpan(span);
    } catch (err) {
      endSpan(span, err);
      shard.skip(record.partition, offset, (err as Error).message);
      counts.skipped++;
      log({ event: 'skipped', partition: record.partition, offset, message: (err as Error).message });
    }
    counts.records++;
    next.set(record.partition, offset + 1);
    if (shard.isDue(Date.now(), options.shardSequences, options.shardMs)) seal();
  };

  // Pause, seal, commit while still a group member, then disconnect.
  const stop = (why: StudentFeedSummary['reason']) => {
    stopping ??= (async () => {
      reason = why;
      for (const tp of source.assigned()) source.pause(tp.topic, tp.partition);
      try {
        seal();
      } catch (err) {
        failure ??= err;
      }
      await commits;
      disconnected = true;
      await source.stop();
    })();
  };

  /**
   * Writes the record, or queues it while a writer schema loads: partitions are paused
   * meanwhile, and a schema that fails to load makes its records skipped, with the reason.
   */
  const receive = (record: SourceRecord) => {
    if (waiting.length > 0 || reader.prepare(record.value) !== undefined) {
      waiting.push(record);
      if (waiting.length === 1) void drainWaiting();
      return;
    }
    write(record);
  };
  const drainWaiting = async () => {
    for (const tp of source.assigned()) source.pause(tp.topic, tp.partition);
    try {
      while (waiting.length > 0) {
        await reader.prepare(waiting[0]!.value)?.catch(() => {}); // decode() then says why
        write(waiting.shift()!);
      }
    } catch (err) {
      fail(err);
      return;
    }
    if (!stopping) for (const tp of source.assigned()) source.resume(tp.topic, tp.partition);
  };

  const fail = (err: unknown) => {
    failure ??= err;
    disconnected = true;
    void source.stop();
  };

  source.rebalances().subscribe(({ assigned }) => {
    joined = true;
    lastActivity = Date.now();
    log({ event: 'assigned', partitions: assigned.map((tp) => tp.partition) });
  });
  const tick = setInterval(() => {
    try {
      if (shard?.isDue(Date.now(), options.shardSequences, options.shardMs)) seal();
      if (options.untilIdleMs !== undefined && joined && Date.now() - lastActivity >= options.untilIdleMs) {
        stop('idle');
      }
    } catch (err) {
      fail(err);
    }
  }, Math.max(50, Math.min(1_000, options.shardMs / 4, options.untilIdleMs ?? 1_000)));

  const done = new Promise<StudentFeedSummary>((resolve, reject) => {
    const finish = (err?: unknown) => {
      clearInterval(tick);
      disconnected = true;
      try {
        if (err === undefined && failure === undefined) seal();
        else shard?.close();
      } catch (sealErr) {
        failure ??= sealErr;
      }
      // Commits go out while the consumer is still connected; stop() then disconnects.
      void commits.then(async () => {
        const error = err ?? failure;
        if (error !== undefined) return reject(error);
        resolve({ reason, ...counts });
      });
    };
    source.records().subscribe({
      next: (record) => {
        try {
          receive(record);
        } catch (err) {
          fail(err);
        }
      },
      error: finish,
      complete: () => finish(),
    });
  });
  return { done, stop: () => stop('stopped') };
}

/**
 * The manifest is the truth; the group's commits may trail it (a kill between manifest
 * and commit) and the trailing records are dropped as already written. Commits AHEAD of
 * the manifest mean something else consumes with this group: refuse, as records would be
 * skipped.
 */
async function reconcile(kafka: Kafka, groupId: string, topic: string, manifest: Manifest, removed: string[], log: StudentFeedOptions['log']): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ahead: string[] = [];
    const group: Record<string, number> = {};
    for (const p of committed?.partitions ?? []) {
      if (p.offset === '-1') continue;
      group[p.partition] = Number(p.offset);
      if (Number(p.offset) > (manifest.next[p.partition] ?? 0)) ahead.push(`partition ${p.partition}: group ${p.offset}, manifest ${manifest.next[p.partition] ?? 0}`);
    }
    log({ event: 'reconciled', shards: manifest.shards.length, manifest: manifest.next, committed: group, removed });
    if (ahead.length > 0) {
      throw new TeacherlmError('INVALID_OPTIONS', `--group: group '${groupId}' has committed past this folder's manifest (${ahead.join('; ')})`, {
        hint: 'another consumer uses this group, or the folder is not the one this group wrote: give each feed folder its own group',
      });
    }
  } finally {
    await admin.disconnect();
  }
}
