/**
 * The servers of one teacher and their health. A request goes to the server with the
 * fewest outstanding requests among those with a free permit (its AIMD limit), not
 * waiting out a `Retry-After`, and not ejected. A server with `afterFailures` failures in
 * a row is ejected for `forMs` (doubling per ejection in a row, up to `maxMs`); after that
 * it is probed with one request, and returns to service only if the probe succeeds.
 */
import { AimdLimit } from './aimd-limit.js';
import type { ConcurrencySpec, EjectionSpec } from './openai-options.js';
import type { ServerError } from './server-error.js';

export type ServerState = 'healthy' | 'ejected' | 'probing';

export class PooledServer {
  readonly limit: AimdLimit;
  outstanding = 0;
  state: ServerState = 'healthy';
  consecutiveFailures = 0;
  ejections = 0;
  /** Not sent to before this time (Retry-After, end of an ejection). */
  notBefore = 0;
  /** Requests answered, failed and the ejections, for metrics and tests. */
  readonly counts = { ok: 0, overload: 0, failure: 0, rejected: 0, ejected: 0 };

  constructor(
    readonly baseUrl: string,
    readonly index: number,
    concurrency: ConcurrencySpec,
  ) {
    this.limit = new AimdLimit(concurrency);
  }

  /** Whether it may take one more request at `now`. */
  canTake(now: number): boolean {
    if (now < this.notBefore) return false;
    if (this.state === 'ejected') return true; // its time is up: the next request probes it
    if (this.state === 'probing') return this.outstanding === 0;
    return this.outstanding < this.limit.permits;
  }
}

export class ServerPool {
  readonly servers: PooledServer[];
  private next = 0;

  constructor(
    baseUrls: readonly string[],
    concurrency: ConcurrencySpec,
    private readonly ejection: EjectionSpec,
    private readonly onEvent: (event: Record<string, unknown>) => void = () => {},
  ) {
    this.servers = baseUrls.map((url, i) => new PooledServer(url, i, concurrency));
  }

  /**
   * Takes a server for one request, or undefined when none can take it now. Ties on
   * outstanding requests go round-robin; `avoid` (the server that just failed this
   * request) is taken only when no other can.
   */
  acquire(now: number, avoid?: PooledServer): PooledServer | undefined {
    let best: PooledServer | undefined;
    const n = this.servers.length;
    for (let k = 0; k < n; k++) {
      const s = this.servers[(this.next + k) % n] as PooledServer;
      if (!s.canTake(now)) continue;
      if (!best || rank(s, avoid) < rank(best, avoid)) best = s;
    }
    if (!best) return undefined;
    this.next = (best.index + 1) % n;
    if (best.state === 'ejected') {
      best.state = 'probing';
      this.onEvent({ event: 'server-probe', server: best.baseUrl });
    }
    best.outstanding++;
    return best;
  }

  /** Records the end of a request sent at `sentAt`: `error` undefined for a success. */
  release(server: PooledServer, sentAt: number, now: number, error?: ServerError): void {
    server.outstanding--;
    const fault = error?.fault;
    if (error?.retryAfterMs !== undefined) server.notBefore = Math.max(server.notBefore, now + error.retryAfterMs);
    if (fault === undefined || fault === 'rejected') {
      // A rejected request is the request's fault, not the server's: the server answered.
      server.counts[fault === undefined ? 'ok' : 'rejected']++;
      server.consecutiveFailures = 0;
      if (server.state === 'probing') {
        server.state = 'healthy';
        server.ejections = 0;
        server.limit.reset();
        this.onEvent({ event: 'server-restored', server: server.baseUrl });
      }
      if (fault === undefined) server.limit.onSuccess();
      return;
    }
    server.counts[fault as 'overload' | 'failure']++;
    if (fault === 'overload') server.limit.onOverload(sentAt, now);
    // A 429 or 503 is an answer: the server is up and says it is busy, which its limit
    // handles. Silence (refused, reset, timed out) and other 5xx count towards ejection.
    if (fault === 'overload' && error?.status !== undefined) return;
    if (server.state === 'ejected') return; // sent before the ejection: no news about the server since
    server.consecutiveFailures++;
    if (server.state === 'probing' || server.consecutiveFailures >= this.ejection.afterFailures) this.eject(server, now);
  }

  /** The earliest time a server that cannot take a request now might (undefined: only a release can help). */
  nextChange(now: number): number | undefined {
    let at: number | undefined;
    for (const s of this.servers) if (s.notBefore > now) at = at === undefined ? s.notBefore : Math.min(at, s.notBefore);
    return at;
  }

  private eject(server: PooledServer, now: number): void {
    const forMs = Math.min(this.ejection.maxMs, this.ejection.forMs * 2 ** server.ejections);
    server.ejections++;
    server.counts.ejected++;
    server.state = 'ejected';
    server.consecutiveFailures = 0;
    server.notBefore = Math.max(server.notBefore, now + forMs);
    this.onEvent({ event: 'server-ejected', server: server.baseUrl, forMs });
  }
}

/** Lower is better: fewest outstanding, the server to avoid last. */
function rank(s: PooledServer, avoid: PooledServer | undefined): number {
  return s.outstanding + (s === avoid ? 1e9 : 0);
}
