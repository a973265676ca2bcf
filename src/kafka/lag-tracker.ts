/**
 * Consumer lag per assigned partition: the log end (high watermark) minus the next
 * offset this consumer will read. High watermarks come from each fetched batch and from
 * `admin.fetchTopicOffsets`; positions from delivered records and, before the first
 * delivery, from the group's committed offsets (`admin.fetchOffsets`).
 */
import { partitionKey, type TopicPartition } from '../pipeline/ports.js';

export type { TopicPartition } from '../pipeline/ports.js';

export interface PartitionLag extends TopicPartition {
  /** Next offset the log will write. */
  highWatermark: string;
  /** Next offset this consumer reads. */
  position: string;
  lag: number;
}

export class LagTracker {
  private assigned = new Map<string, TopicPartition>();
  private readonly highWatermarks = new Map<string, bigint>();
  private readonly positions = new Map<string, bigint>();

  /** Replaces the assignment; partitions no longer assigned are forgotten. */
  setAssignment(partitions: readonly TopicPartition[]): void {
    this.assigned = new Map(partitions.map((tp) => [partitionKey(tp.topic, tp.partition), tp]));
    for (const map of [this.highWatermarks, this.positions]) {
      for (const key of [...map.keys()]) if (!this.assigned.has(key)) map.delete(key);
    }
  }

  observeHighWatermark(topic: string, partition: number, highWatermark: string): void {
    const key = partitionKey(topic, partition);
    const value = BigInt(highWatermark);
    if (value > (this.highWatermarks.get(key) ?? -1n)) this.highWatermarks.set(key, value);
  }

  /** A record at `offset` was delivered: the position is the offset after it. */
  observeDelivered(topic: string, partition: number, offset: string): void {
    this.advance(partitionKey(topic, partition), BigInt(offset) + 1n);
  }

  /** The group's committed offset (the next to read), or a start position; never moves back. */
  observePosition(topic: string, partition: number, nextOffset: string): void {
    const value = BigInt(nextOffset);
    if (value >= 0n) this.advance(partitionKey(topic, partition), value);
  }

  /**
   * After a rebalance kafkajs restarts from committed offsets, so positions of kept
   * partitions may move back: forget them until the next delivery or refresh.
   */
  resetPositions(): void {
    this.positions.clear();
  }

  /** Lag of each assigned partition whose high watermark and position are known. */
  byPartition(): PartitionLag[] {
    const out: PartitionLag[] = [];
    for (const [key, tp] of this.assigned) {
      const hw = this.highWatermarks.get(key);
      const position = this.positions.get(key);
      if (hw === undefined || position === undefined) continue;
      const lag = hw > position ? Number(hw - position) : 0;
      out.push({ ...tp, highWatermark: hw.toString(), position: position.toString(), lag });
    }
    return out;
  }

  /** Sum over the assigned partitions, or undefined while any of them is unknown. */
  total(): number | undefined {
    const known = this.byPartition();
    if (this.assigned.size === 0 || known.length < this.assigned.size) return undefined;
    return known.reduce((sum, p) => sum + p.lag, 0);
  }

  private advance(key: string, value: bigint): void {
    if (!this.assigned.has(key)) return;
    if (value > (this.positions.get(key) ?? -1n)) this.positions.set(key, value);
  }
}
