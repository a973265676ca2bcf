/**
 * Commit-by-watermark. Batching reorders work across records and partitions, so an input
 * offset may be committed only when it and every earlier offset of its partition have
 * been written (augmented or dead-lettered) and acknowledged by the broker. A crash then
 * never loses a sample: everything after the committed offset is read again.
 *
 * Records must be tracked in the order the source delivers them (partition order).
 * Offsets need not be contiguous (compaction, transaction markers): the tracker only
 * knows the offsets it saw. Offsets are Kafka's int64 as decimal strings; committed
 * offsets are the next offset to read.
 */
import { partitionKey, type TopicPartition, type TopicPartitionOffset } from './ports.js';

interface Entry {
  offset: bigint;
  /** The offset as tracked: its key in `index`. */
  key: string;
  done: boolean;
  /** When it was tracked, as the caller gave it (the metrics' consume time). */
  at: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  entries: Entry[];
  head: number;
  index: Map<string, Entry>;
  /** Next offset to read once everything before it is done. */
  watermark: bigint | undefined;
  committed: bigint | undefined;
}

export interface TrackedPosition {
  topic: string;
  partition: number;
  offset: string;
}

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionState>();
  private pending = 0;

  /** Records tracked and not yet completed, over all partitions. */
  get inFlight(): number {
    return this.pending;
  }

  /** Starts tracking a record just delivered by the source; `at` is kept for {@link completeAt}. */
  track({ topic, partition, offset }: TrackedPosition, at = 0): void {
    const key = partitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, entries: [], head: 0, index: new Map(), watermark: undefined, committed: undefined };
      this.partitions.set(key, state);
    }
    if (state.index.has(offset)) return; // delivered twice without a rebalance: already tracked
    const value = BigInt(offset);
    // Delivered again after it was done: tracking it anew would move the watermark back.
    if (state.watermark !== undefined && value < state.watermark) return;
    const entry = { offset: value, key: offset, done: false, at };
    state.entries.push(entry);
    state.index.set(offset, entry);
    this.pending++;
  }

  /**
   * Marks a record written and acknowledged. Returns false for a record not tracked
   * (e.g. its partition was revoked meanwhile): it is then ignored.
   */
  complete(position: TrackedPosition): boolean {
    return this.completeAt(position) !== undefined;
  }

  /** {@link complete}, returning the `at` the record was tracked with, or undefined for a record not tracked. */
  completeAt({ topic, partition, offset }: TrackedPosition): number | undefined {
    const state = this.partitions.get(partitionKey(topic, partition));
    const entry = state?.index.get(offset);
    if (!state || !entry || entry.done) return undefined;
    entry.done = true;
    this.pending--;
    let head = state.entries[state.head];
    while (head?.done) {
      state.watermark = head.offset + 1n;
      state.index.delete(head.key);
      state.head++;
      head = state.entries[state.head];
    }
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries = state.entries.slice(state.head);
      state.head = 0;
    }
    return entry.at;
  }

  /** For each partition whose watermark moved past its last commit: the offset to commit. */
  committable(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const state of this.partitions.values()) {
      if (state.watermark !== undefined && state.watermark !== state.committed) {
        out.push({ topic: state.topic, partition: state.partition, offset: state.watermark.toString() });
      }
    }
    return out;
  }

  /** Records that these offsets were committed. */
  markCommitted(offsets: TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const state = this.partitions.get(partitionKey(topic, partition));
      if (state) state.committed = BigInt(offset);
    }
  }

  /** Drops revoked partitions: their records will be delivered again and are never committed from here. */
  forget(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      const state = this.partitions.get(key);
      if (!state) continue;
      this.pending -= state.index.size - [...state.index.values()].filter((e) => e.done).length;
      this.partitions.delete(key);
    }
  }
}
