/**
 * Additive-increase, multiplicative-decrease concurrency limit for one server, as TCP
 * does for its window: each success adds 1/limit (about +1 per limit's worth of
 * successes), each overload signal (429, 503, timeout) multiplies by `decrease`. Only
 * one cut per round trip: a signal from a request sent before the last cut was caused by
 * the load before it, so it does not cut again.
 */
import type { ConcurrencySpec } from './openai-options.js';

export class AimdLimit {
  private value: number;
  private lastCutAt = -Infinity;

  constructor(
    private readonly bounds: ConcurrencySpec,
    private readonly decrease = 0.5,
  ) {
    this.value = bounds.initial;
  }

  /** Requests that may be in flight now. */
  get permits(): number {
    return Math.max(this.bounds.min, Math.floor(this.value));
  }

  /** The limit with its fraction, for metrics and tests. */
  get current(): number {
    return this.value;
  }

  onSuccess(): void {
    this.value = Math.min(this.bounds.max, this.value + 1 / Math.max(1, this.value));
  }

  /** `sentAt`: when the overloaded request was sent; `now`: when its reply came. */
  onOverload(sentAt: number, now: number): void {
    if (sentAt < this.lastCutAt) return;
    this.value = Math.max(this.bounds.min, this.value * this.decrease);
    this.lastCutAt = now;
  }

  reset(): void {
    this.value = this.bounds.initial;
    this.lastCutAt = -Infinity;
  }
}
