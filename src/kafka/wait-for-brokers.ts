/**
 * Whether any bootstrap broker accepts a TCP connection, checked before a command hands
 * the address to kafkajs. kafkajs retries an unreachable seed broker for about a minute,
 * logging every attempt; a user who mistyped KAFKA_BROKERS should get one line at once.
 *
 * @example
 * await waitForBrokers(['127.0.0.1:9092'], { timeoutMs: 5_000 });
 */
import { connect } from 'node:net';
import { TeacherlmError } from '../errors.js';

export interface WaitForBrokersOptions {
  /** How long to keep trying, ms (a broker that is still starting gets this long). Default 5 000. */
  timeoutMs?: number;
  /** Pause between rounds, ms. Default 250. */
  intervalMs?: number;
}

function accepts(address: string, timeoutMs: number): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves once one of `brokers` (host:port) accepts a connection; BROKER_UNREACHABLE after `timeoutMs`. */
export async function waitForBrokers(brokers: string[], options: WaitForBrokersOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.max(100, deadline - Date.now());
    const answers = await Promise.all(brokers.map((b) => accepts(b, Math.min(left, 2_000))));
    if (answers.some(Boolean)) return;
    if (Date.now() >= deadline) {
      throw new TeacherlmError('BROKER_UNREACHABLE', `no Kafka broker answered at ${brokers.join(', ')} within ${Math.round(timeoutMs / 1000)} s`, {
        hint: 'check KAFKA_BROKERS, or unset it to use the local broker (teacherlm kafka start)',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
