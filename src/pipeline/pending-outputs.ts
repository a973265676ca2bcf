/**
 * Exactly-once: the encoded outputs of completed input records, held per input partition
 * until the transaction that commits their offsets. Completions arrive out of order; a
 * commit takes the outputs of the offsets below the partition's watermark (contiguous by
 * the tracker's definition). Bounded: the pipeline counts them as queued, so the source
 * pauses at `queueLimit` and a commit is started early when half of it is held.
 */
import { partitionKey } from './ports.js';
import type { Encoded } from './items.js';

interface Held {
  offset: bigint;
  item: Encoded;
}

export class PendingOutputs {
  private readonly partitions = new Map<string, Held[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(item: Encoded): void {
    const key = partitionKey(item.record.topic, item.record.partition);
    let held = this.partitions.get(key);
    if (!held) this.partitions.set(key, (held = []));
    held.push({ offset: BigInt(item.record.offset), item });
    this.count++;
  }

  /** The outputs of `topic/partition` below `nextOffset`, in offset order; they stay held until {@link release}. */
  below(topic: string, partition: number, nextOffset: string): Encoded[] {
    const end = BigInt(nextOffset);
    const held = this.partitions.get(partitionKey(topic, partition)) ?? [];
    return held.filter((h) => h.offset < end).sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0)).map((h) => h.item);
  }

  /** Forgets the outputs below `nextOffset` (committed). */
  release(topic: string, partition: number, nextOffset: string): void {
    const key = partitionKey(topic, partition);
    const end = BigInt(nextOffset);
    const held = this.partitions.get(key);
    if (!held) return;
    const kept = held.filter((h) => h.offset >= end);
    this.count -= held.length - kept.length;
    this.partitions.set(key, kept);
  }

  /** Drops everything held for these partitions (revoked, or their transaction failed). */
  drop(partitions: { topic: string; partition: number }[]): void {
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      this.count -= this.partitions.get(key)?.length ?? 0;
      this.partitions.delete(key);
    }
  }
}
