import * as kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { connectProducer, isBailedConnect } from '../../src/kafka/producer-connect.js';

// kafkajs exports this one at run time but not in its types.
type ErrorClass = new (message: string | Error, options?: object) => Error;
const { KafkaJSConnectionClosedError, KafkaJSRequestTimeoutError, KafkaJSNumberOfRetriesExceeded } = kafkajs as unknown as Record<'KafkaJSConnectionClosedError' | 'KafkaJSRequestTimeoutError' | 'KafkaJSNumberOfRetriesExceeded', ErrorClass>;

function producerFailing(errors: Error[]) {
  const calls: string[] = [];
  return {
    calls,
    connect: async () => {
      calls.push('connect');
      const e = errors.shift();
      if (e) throw e;
    },
    disconnect: async () => void calls.push('disconnect'),
  };
}

describe('connectProducer', () => {
  it("connects again, afresh and backing off, after kafkajs's InitProducerId bailed on a timeout or a closed connection", async () => {
    const p = producerFailing([new KafkaJSRequestTimeoutError('Request InitProducerId(key: 22, version: 1) timed out'), new KafkaJSConnectionClosedError('Closed connection')]);
    const pauses: number[] = [];
    await connectProducer(p, { retries: 5, wait: async (ms) => void pauses.push(ms) });
    expect(p.calls).toEqual(['connect', 'disconnect', 'connect', 'disconnect', 'connect']);
    expect(pauses).toEqual([300, 600]);
  });

  it('gives up after `retries` more attempts with the last error', async () => {
    const last = new KafkaJSConnectionClosedError('Closed connection');
    const p = producerFailing([new KafkaJSConnectionClosedError('Closed connection'), new KafkaJSConnectionClosedError('Closed connection'), last]);
    await expect(connectProducer(p, { retries: 2, wait: async () => {} })).rejects.toBe(last);
    expect(p.calls.filter((c) => c === 'connect')).toHaveLength(3);
  });

  it("does not retry what kafkajs's own retries already gave up on, nor other errors", async () => {
    const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionClosedError('Closed connection'), { retryCount: 8, retryTime: 3000 });
    expect(isBailedConnect(exhausted)).toBe(false);
    const p = producerFailing([exhausted]);
    await expect(connectProducer(p, { retries: 5, wait: async () => {} })).rejects.toBe(exhausted);
    expect(p.calls).toEqual(['connect']);
    expect(isBailedConnect(new Error('Broker not connected'))).toBe(true);
    expect(isBailedConnect(new TypeError('x'))).toBe(false);
  });
});
