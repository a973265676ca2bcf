/**
 * Connecting an idempotent kafkajs producer on a slow broker. kafkajs retries its other
 * requests, but its InitProducerId bails on the first request timeout or closed connection
 * (its eosManager retries only protocol errors there), and `connect()` fails with that raw
 * error. So a worker started while the broker was slow to hand out producer ids (a fresh
 * or loaded broker) exited at once. Nothing of ours was sent yet, so connecting again
 * cannot duplicate: start afresh, with kafkajs's backoff shape, `retries` times.
 */
import type { Producer } from 'kafkajs';
import { isHandshakePending } from './handshake-pending.js';

/** Raised unwrapped by kafkajs's connection (a KafkaJSNumberOfRetriesExceeded wrapper means its own retries already ran out). */
const BAILED = new Set(['KafkaJSConnectionClosedError', 'KafkaJSConnectionError', 'KafkaJSRequestTimeoutError']);

export function isBailedConnect(err: unknown): boolean {
  return (err instanceof Error && BAILED.has(err.name)) || isHandshakePending(err);
}

export interface ConnectRetry {
  retries: number;
  /** First pause, ms; doubles up to maxRetryTimeMs. Default 300 (kafkajs's). */
  initialRetryTimeMs?: number;
  /** Default 30 000 (kafkajs's). */
  maxRetryTimeMs?: number;
  /** Unit tests: the pause. */
  wait?: (ms: number) => Promise<void>;
}

export async function connectProducer(producer: Pick<Producer, 'connect' | 'disconnect'>, o: ConnectRetry): Promise<void> {
  const wait = o.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let pause = o.initialRetryTimeMs ?? 300;
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.connect();
      return;
    } catch (err) {
      if (!isBailedConnect(err) || attempt >= o.retries) throw err;
      // kafkajs keeps a broker whose handshake failed: drop every connection before the next try.
      await producer.disconnect().catch(() => {});
      await wait(pause);
      pause = Math.min(o.maxRetryTimeMs ?? 30_000, pause * 2);
    }
  }
}
