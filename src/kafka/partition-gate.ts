/**
 * Per-partition pause state with waiters: the consume callback parks on a paused
 * partition here until the pipeline resumes it (or the source stops), so a batch that
 * kafkajs already fetched is delivered only as fast as the pipeline drains.
 */

/** `topic:partition`; Kafka topic names cannot contain ':'. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export class PartitionGate {
  private readonly paused = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Returns true when the partition was not paused before. */
  pause(key: string): boolean {
    if (this.paused.has(key)) return false;
    this.paused.add(key);
    return true;
  }

  /** Returns true when the partition was paused; wakes whoever waits on it. */
  resume(key: string): boolean {
    if (!this.paused.delete(key)) return false;
    this.wake(key);
    return true;
  }

  isPaused(key: string): boolean {
    return this.paused.has(key);
  }

  pausedKeys(): string[] {
    return [...this.paused];
  }

  /**
   * Resolves when the partition is resumed, {@link releaseAll} is called, or `timeoutMs`
   * passes (so the caller can heartbeat and re-check), whichever comes first.
   */
  waitForResume(key: string, timeoutMs: number): Promise<void> {
    if (!this.paused.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
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
