/**
 * Per-partition pause state with waiters: the consume callback parks on a paused
 * partition here until the pipeline resumes it (or the source stops), so a batch that
 * kafkajs already fetched is delivered only as fast as the pipeline drains. Its timeouts
 * run on the given scheduler, so tests move them in virtual time.
 */
import { type SchedulerLike, type Subscription, asyncScheduler } from 'rxjs';
import { partitionKey, type TopicPartition } from '../pipeline/ports.js';

export class PartitionGate {
  private readonly paused = new Map<string, TopicPartition>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly scheduler: SchedulerLike = asyncScheduler) {}

  /** Returns true when the partition was not paused before. */
  pause(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    if (this.paused.has(key)) return false;
    this.paused.set(key, { topic, partition });
    return true;
  }

  /** Returns true when the partition was paused; wakes whoever waits on it. */
  resume(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    if (!this.paused.delete(key)) return false;
    this.wake(key);
    return true;
  }

  isPaused(topic: string, partition: number): boolean {
    return this.paused.has(partitionKey(topic, partition));
  }

  /** The partitions paused now, in the order they were paused. */
  pausedPartitions(): TopicPartition[] {
    return [...this.paused.values()];
  }

  /**
   * Resolves when the partition is resumed, {@link releaseAll} is called, or `timeoutMs`
   * passes (so the caller can heartbeat and re-check), whichever comes first.
   */
  waitForResume(topic: string, partition: number, timeoutMs: number): Promise<void> {
    const key = partitionKey(topic, partition);
    if (!this.paused.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = () => {
        timer.unsubscribe();
        set.delete(done);
        resolve();
      };
      const timer: Subscription = this.scheduler.schedule(done, timeoutMs);
      set.add(done);
    });
  }

  /** Wakes every waiter (the source is stopping or the group rebalanced). */
  releaseAll(): void {
    for (const key of [...this.waiters.keys()]) this.wake(key);
  }

  private wake(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const done of [...set]) done();
  }
}
