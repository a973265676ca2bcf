/**
 * Connecting a kafkajs producer on a broker that may be slow to answer: a fresh or loaded
 * broker can take longer than a request timeout to hand out a producer id, and kafkajs's
 * idempotent `connect()` gives up on the first failed InitProducerId (it bails on a timeout
 * or a closed connection instead of retrying). Each failed attempt starts afresh, since
 * kafkajs also keeps a broker whose handshake timed out; the attempts are kept, so a run
 * that still fails says what it met and when.
 */
export interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PatienceOptions {
  /** Give up once this much time has passed since the first attempt. */
  deadlineMs: number;
  /** Pause between attempts. */
  pauseMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function connectPatiently(client: Connectable, what: string, o: PatienceOptions): Promise<void> {
  return patiently(`${what} could not connect`, () => client.connect(), o, () => client.disconnect());
}

/** Runs `attempt` until it succeeds, calling `reset` after each failure, for up to `o.deadlineMs`. */
export async function patiently(what: string, attempt: () => Promise<unknown>, o: PatienceOptions, reset: () => Promise<unknown> = async () => {}): Promise<void> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const began = now();
  const failures: string[] = [];
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      await reset().catch(() => {});
      const e = err as Error;
      failures.push(`${((now() - began) / 1000).toFixed(1)} s ${e.name}: ${e.message}`);
      if (now() - began >= o.deadlineMs) {
        throw new Error(`${what} in ${Math.round(o.deadlineMs / 1000)} s, ${failures.length} attempts: ${failures.join('; ')}`, { cause: err });
      }
      await sleep(o.pauseMs ?? 1_000);
    }
  }
}
