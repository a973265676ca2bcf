import kafkajs, { type Kafka, type Producer } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { KafkaSink, produceFailed } from '../../src/kafka/sink.js';
import { TeacherlmError } from '../../src/errors.js';

/** A kafkajs client at its interface: the producer's first send meets a broker mid-handshake. */
function kafkaWithStuckBroker() {
  const connect = vi.fn(async () => {});
  const disconnect = vi.fn(async () => {});
  const sendBatch = vi.fn(async () => []).mockRejectedValueOnce(new Error('Broker not connected'));
  const producer = { connect, disconnect, sendBatch } as unknown as Producer;
  const kafka = { producer: () => producer } as unknown as Kafka;
  return { kafka, connect, disconnect, sendBatch };
}

const record = { topic: 't', key: 'k', value: Buffer.from('v'), headers: {} };

describe('KafkaSink', () => {
  it('drops its connections when a send meets a broker whose handshake failed, so the next send connects again', async () => {
    const { kafka, connect, disconnect, sendBatch } = kafkaWithStuckBroker();
    const sink = new KafkaSink({ kafka });
    const failed = await sink.send([record]).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(TeacherlmError);
    expect(failed).toMatchObject({ code: 'PRODUCE_FAILED', retriable: true });
    expect(disconnect).toHaveBeenCalledTimes(1);
    await sink.send([record]);
    expect(connect).toHaveBeenCalledTimes(2);
    expect(sendBatch).toHaveBeenCalledTimes(2);
  });

  it('keeps its connections on any other failure', async () => {
    const { kafka, connect, disconnect, sendBatch } = kafkaWithStuckBroker();
    sendBatch.mockReset().mockRejectedValueOnce(Object.assign(new Error('timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true }));
    const sink = new KafkaSink({ kafka });
    await expect(sink.send([record])).rejects.toMatchObject({ code: 'PRODUCE_FAILED', retriable: true });
    await sink.send([record]);
    expect(disconnect).not.toHaveBeenCalled();
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('keeps a send retriable when kafkajs gave up on a connection error, however its retriers wrapped it', () => {
    // kafkajs's constructors take the `cause` its typings leave out.
    type WithCause = new (e: Error, o?: { cause?: Error; retryCount?: number; retryTime?: number }) => Error;
    const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajs;
    const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as WithCause;
    const KafkaJSNumberOfRetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded as unknown as WithCause;
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19094');
    // What kafkajs's producer threw in a broker outage: the inner retrier gave up, the outer one wrapped it.
    const inner = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1000, cause: refused });
    const outer = new KafkaJSNonRetriableError(inner, { cause: (inner.cause as Error | undefined) ?? inner });
    expect(produceFailed(outer, 'could not produce')).toMatchObject({ code: 'PRODUCE_FAILED', retriable: true, message: expect.stringContaining('ECONNREFUSED') });
    expect(produceFailed(inner, 'could not produce').retriable).toBe(true);
    const invalid = new KafkaJSProtocolError(Object.assign(new Error('Invalid topic'), { type: 'INVALID_TOPIC_EXCEPTION', code: 17, retriable: false }));
    expect(produceFailed(new KafkaJSNonRetriableError(invalid, { cause: invalid }), 'could not produce').retriable).toBe(false);
    expect(produceFailed(new KafkaJSNonRetriableError(new TypeError('bug')), 'could not produce').retriable).toBe(false);
  });
});
