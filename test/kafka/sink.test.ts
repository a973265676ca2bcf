import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { KafkaSink } from '../../src/kafka/sink.js';
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
});
