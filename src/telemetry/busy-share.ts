/**
 * How busy an engine's workers are: at each moment, the workers with a call running,
 * counted as the calls in flight up to the number of workers, integrated over time. A
 * batching engine runs one call per worker, so this is each worker's busy time; a
 * continuously batching one runs one call per task, many at once, and a worker with ten
 * rows is busy once, not ten times (summing the calls' durations read 1 whenever
 * anything ran). Its pool puts a call on an idle worker first, so while no more calls
 * run than there are workers each runs on its own; with more, the count is a ceiling.
 *
 * @example
 * const busy = new BusyShare(2, now());    // 2 workers
 * busy.started(now()); ... busy.ended(now());
 * busy.share(now());                       // busy worker-time / (elapsed × 2), in [0, 1]
 */
export class BusyShare {
  private running = 0;
  private lastAt: number;
  private busyMs = 0;

  /** `at`: milliseconds on the caller's clock (monotonic), as for every call below. */
  constructor(
    readonly workers: number,
    private readonly startedAt: number,
  ) {
    this.lastAt = startedAt;
  }

  started(at: number): void {
    this.advance(at);
    this.running++;
  }

  ended(at: number): void {
    this.advance(at);
    if (this.running > 0) this.running--;
  }

  /** Busy worker-milliseconds from the start until `at`. */
  busyWorkerMs(at: number): number {
    this.advance(at);
    return this.busyMs;
  }

  /** Busy worker-time over elapsed worker-time, in [0, 1]; undefined before any time has passed. */
  share(at: number): number | undefined {
    const elapsed = (at - this.startedAt) * this.workers;
    return elapsed > 0 ? Math.min(1, this.busyWorkerMs(at) / elapsed) : undefined;
  }

  private advance(at: number): void {
    if (at <= this.lastAt) return;
    this.busyMs += Math.min(this.running, this.workers) * (at - this.lastAt);
    this.lastAt = at;
  }
}
