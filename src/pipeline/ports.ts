/**
 * The ports between the pipeline core and the Kafka edges. The pipeline only knows these
 * interfaces; `src/kafka/source.ts` and `src/kafka/sink.ts` implement them with kafkajs,
 * unit tests implement them in memory.
 *
 * Offsets are strings (Kafka's int64 does not fit a JS number) and follow the Kafka
 * convention: a committed offset is the NEXT offset to read.
 */
import type { Observable } from 'rxjs';

/** One consumed record, as the broker gave it. */
export interface SourceRecord {
  topic: string;
  partition: number;
  /** This record's offset (int64 as a decimal string). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
  /** Broker or producer timestamp, milliseconds since the epoch as a decimal string. */
  timestamp: string;
}

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The one Map key for a topic-partition, wherever partitions are kept by key (NUL cannot occur in a topic name). */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** A position in a partition; in {@link RecordSource.commit} it is the next offset to read. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

/** Counters a source exposes for the live line, logs and tests. */
export interface SourceStats {
  /** How many times a partition was paused (a paused partition paused again does not count). */
  pauses: number;
  /** How many times a paused partition was resumed. */
  resumes: number;
  /** Records delivered by {@link RecordSource.records} so far. */
  consumed: number;
  /**
   * Messages behind the log end over the assigned partitions (high watermark minus the
   * next offset to read), or undefined while unknown.
   */
  lag?: number;
}

/**
 * Consumed records of a consumer group, with manual commits and per-partition flow
 * control. The source never commits on its own.
 */
export interface RecordSource {
  /**
   * Every consumed record, in partition order. Subscribing starts consuming (once);
   * the observable completes after {@link stop}. A fatal consumer error errors it.
   */
  records(): Observable<SourceRecord>;
  /** Stops fetching a partition. Records already fetched may still be delivered. */
  pause(topic: string, partition: number): void;
  /** Fetches a paused partition again; a no-op for a partition not paused. */
  resume(topic: string, partition: number): void;
  /** Commits, for each partition, the next offset to read. Resolves when the broker accepted it. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /**
   * Stops fetching, completes {@link records} and disconnects. Idempotent. Commits are
   * impossible afterwards, so the pipeline commits first. Unsubscribing from
   * {@link records} may stop the source too.
   */
  stop(): Promise<void>;
  /** Current counters. */
  stats(): SourceStats;
  /**
   * Optional: the partitions currently assigned. On shutdown the pipeline pauses them all
   * (stop fetching) while it still needs the group to commit; {@link stop} comes last.
   */
  assigned?(): TopicPartition[];
  /**
   * Optional: whether the source holds partitions and has read each of them to its log
   * end. `untilIdleMs` stops a pipeline only when this is true (no assignment yet, e.g.
   * while a dead member's session runs out, is not idle). Without it, a quiet source is
   * taken as caught up.
   */
  caughtUp?(): boolean;
  /**
   * Optional (needed for exactly-once): the group's committed offset of each partition,
   * or where a partition without one starts (its log start or end, as configured).
   */
  committedOffsets?(partitions: { topic: string; partition: number }[]): Promise<TopicPartitionOffset[]>;
  /**
   * Optional (needed for exactly-once): fetch `topic/partition` from `offset` next.
   * Synchronous: no record of the partition from before the seek is delivered after it.
   */
  seek?(topic: string, partition: number, offset: string): void;
  /**
   * Optional: group joins. Records in flight on `revoked` partitions will be delivered
   * again, so the pipeline drops their tracking and never commits them.
   */
  rebalances?(): Observable<{ revoked: TopicPartition[]; assigned?: TopicPartition[] }>;
  /** Optional: lag of each assigned partition whose position and log end are known (for metrics). */
  lagByPartition?(): (TopicPartition & { lag: number })[];
}

/** One record to produce. */
export interface OutRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers: Record<string, string | Buffer>;
}

/** A producer. Records of one `send` may go to several topics. */
export interface RecordSink {
  /**
   * Produces the records; resolves only after the broker acknowledged every one of them
   * (acks=all), rejects with a TeacherlmError (PRODUCE_FAILED) otherwise.
   */
  send(records: OutRecord[]): Promise<void>;
  /** Resolves when every send issued so far has settled. */
  flush(): Promise<void>;
  /** Flushes, then disconnects. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional: the largest single record (as `recordBytes` counts it) the topic accepts,
   * once known. The pipeline dead-letters larger records instead of sending them.
   */
  maxRecordBytes?(topic: string): number | undefined;
}

/**
 * Exactly-once output: per input partition, the outputs of a contiguous range of input
 * offsets and the offset after it, committed in one transaction
 * (`src/kafka/partition-transactions.ts`).
 */
export interface PartitionCommitter {
  /** Readies the partition's transactional producer, fencing any previous owner. */
  assign(topic: string, partition: number): Promise<void>;
  /** Drops the partition's producer. */
  revoke(topic: string, partition: number): Promise<void>;
  /** Writes `records` and commits `nextOffset` atomically; rejects (TRANSACTION_FAILED) when it could not. */
  commit(topic: string, partition: number, records: OutRecord[], nextOffset: string): Promise<void>;
  close(): Promise<void>;
}
