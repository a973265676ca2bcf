/**
 * The bounded queue in front of the engine, enforced at the source: when the records in
 * flight reach `queueLimit`, the partition that delivered the last one is paused (each
 * partition that delivers while the queue is full is paused in turn); when the queue has
 * drained to `resumeAt` (default half the limit), every paused partition resumes. The
 * gap between the two avoids pausing and resuming on every record. Memory therefore
 * stays bounded whatever the backlog on the topic.
 */
import { partitionKey, type RecordSource, type TopicPartition } from './ports.js';

export interface FlowControlOptions {
  queueLimit: number;
  /** In-flight count at or below which paused partitions resume. Default floor(queueLimit / 2). */
  resumeAt?: number;
}

export class FlowControl {
  private readonly paused = new Map<string, TopicPartition>();
  private readonly queueLimit: number;
  private readonly resumeAt: number;

  constructor(
    private readonly source: Pick<RecordSource, 'pause' | 'resume'>,
    options: FlowControlOptions,
  ) {
    this.queueLimit = options.queueLimit;
    this.resumeAt = Math.min(options.resumeAt ?? Math.floor(options.queueLimit / 2), options.queueLimit - 1);
  }

  /** Partitions paused by this queue so far. */
  pauses = 0;

  /** Partitions paused right now. */
  get pausedCount(): number {
    return this.paused.size;
  }

  /** Call after a record of `topic/partition` was added; `inFlight` is the new total. */
  added(topic: string, partition: number, inFlight: number): void {
    if (inFlight < this.queueLimit) return;
    const key = partitionKey(topic, partition);
    if (this.paused.has(key)) return;
    this.paused.set(key, { topic, partition });
    this.pauses++;
    this.source.pause(topic, partition);
  }

  /** Call after records left the queue; `inFlight` is the new total. */
  removed(inFlight: number): void {
    if (inFlight > this.resumeAt || this.paused.size === 0) return;
    this.resumeAll();
  }

  /** Resumes every paused partition. */
  resumeAll(): void {
    for (const { topic, partition } of this.paused.values()) this.source.resume(topic, partition);
    this.paused.clear();
  }
}
