/**
 * Sends requests over a {@link ServerPool}: each waits in one queue until a server has a
 * free permit, and a failed attempt is retried (on another server when there is one)
 * after an exponential backoff with jitter, or after the server's `Retry-After` when
 * longer. A request is rejected only when it is refused (retrying cannot help) or has used
 * all its attempts; the batch it belongs to then fails and the pipeline retries or
 * bisects it.
 *
 * Time is `Date.now()` and `setTimeout`, so tests drive it with fake timers.
 */
import { TeacherlmError } from '../../errors.js';
import type { Transport } from './http-transport.js';
import type { RequestRetrySpec, TimeoutSpec } from './openai-options.js';
import { ServerError } from './server-error.js';
import type { PooledServer, ServerPool } from './server-pool.js';

export interface Delivered<T> {
  value: T;
  /** Base URL of the server that answered. */
  server: string;
  /** From submit to the answered attempt's send: waiting for a permit, backoffs, failed attempts. */
  queuedMs: number;
  /** The answered attempt. */
  serverMs: number;
  attempts: number;
}

interface Job {
  path: string;
  body: unknown;
  parse: (json: unknown, url: string) => unknown;
  attempts: number;
  readyAt: number;
  submittedAt: number;
  lastServer: PooledServer | undefined;
  resolve: (value: Delivered<unknown>) => void;
  reject: (err: unknown) => void;
}

export interface DispatcherOptions {
  pool: ServerPool;
  transport: Transport;
  headers: Record<string, string>;
  timeouts: TimeoutSpec;
  retry: RequestRetrySpec;
  /** In [0, 1): the jitter. Default Math.random. */
  random?: () => number;
}

/** Backoff before attempt `n + 1` after `n` failed ones: half the exponential step, plus up to as much again at random. */
export function jitteredBackoffMs(policy: RequestRetrySpec, n: number, random: () => number): number {
  const step = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (n - 1));
  return step / 2 + random() * (step / 2);
}

export class RequestDispatcher {
  private readonly queue: Job[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly random: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Requests waiting for a server (not in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  submit<T>(path: string, body: unknown, parse: (json: unknown, url: string) => T): Promise<Delivered<T>> {
    if (this.closed) return Promise.reject(new TeacherlmError('SHUT_DOWN', 'the OpenAI teacher is closed'));
    return new Promise<Delivered<T>>((resolve, reject) => {
      const now = Date.now();
      this.queue.push({
        path, body, parse, attempts: 0, readyAt: now, submittedAt: now, lastServer: undefined,
        resolve: resolve as (value: Delivered<unknown>) => void, reject,
      });
      this.pump();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const job of this.queue.splice(0)) job.reject(new TeacherlmError('SHUT_DOWN', 'the OpenAI teacher was closed with requests waiting'));
  }

  /** Starts every ready request a server can take now; sets a timer for the next that may become startable. */
  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    let wakeAt = Infinity;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i] as Job;
      if (job.readyAt > now) {
        wakeAt = Math.min(wakeAt, job.readyAt);
        i++;
        continue;
      }
      const server = this.options.pool.acquire(now, job.lastServer);
      if (!server) break; // no server takes anything now: the rest wait too
      this.queue.splice(i, 1);
      this.send(job, server, now);
    }
    const change = this.options.pool.nextChange(now);
    if (change !== undefined && this.queue.length > 0) wakeAt = Math.min(wakeAt, change);
    if (wakeAt < this.timerAt) {
      clearTimeout(this.timer);
      this.timerAt = wakeAt;
      this.timer = setTimeout(() => {
        this.timerAt = Infinity;
        this.timer = undefined;
        this.pump();
      }, Math.max(0, wakeAt - now));
    }
  }

  private send(job: Job, server: PooledServer, sentAt: number): void {
    job.attempts++;
    const url = server.baseUrl + job.path;
    const { transport, headers, timeouts, pool, retry } = this.options;
    transport({ url, body: job.body, headers, connectTimeoutMs: timeouts.connectMs, requestTimeoutMs: timeouts.requestMs })
      .then((json) => job.parse(json, url))
      .then(
        (value) => {
          const now = Date.now();
          pool.release(server, sentAt, now);
          job.resolve({ value, server: server.baseUrl, queuedMs: sentAt - job.submittedAt, serverMs: now - sentAt, attempts: job.attempts });
        },
        (err: unknown) => {
          const now = Date.now();
          const error = err instanceof ServerError ? err : new ServerError('failure', `${url}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
          pool.release(server, sentAt, now, error);
          if (error.fault === 'rejected' || job.attempts >= retry.maxAttempts || this.closed) {
            job.reject(job.attempts > 1 ? new ServerError(error.fault, `${error.message} (attempt ${job.attempts} of ${retry.maxAttempts})`, { status: error.status, cause: error, hint: error.hint }) : error);
            return;
          }
          job.readyAt = now + Math.max(jitteredBackoffMs(retry, job.attempts, this.random), error.retryAfterMs ?? 0);
          job.lastServer = server;
          this.queue.unshift(job); // a retry goes before requests that have not waited as long
        },
      )
      .finally(() => this.pump());
  }
}
