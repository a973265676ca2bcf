import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { PartitionTransactions, isRetriable } from '../../src/kafka/partition-transactions.js';

describe('PartitionTransactions', () => {
  it('disconnects a producer whose connect failed (a broker outage), so no socket it opened outlives it', async () => {
    const disconnect = vi.fn(async () => {});
    const producer = { connect: async () => Promise.reject(new Error('Failed to find group coordinator')), disconnect } as unknown as Producer;
    const kafka = { producer: () => producer } as unknown as Kafka;
    const transactions = new PartitionTransactions({ kafka, groupId: 'g' });
    await expect(transactions.assign('t', 0)).rejects.toThrow(/group coordinator/);
    expect(disconnect).toHaveBeenCalledTimes(1);
  });

  it('redoes a transaction that met a broker mid-handshake (nothing was sent), not one that failed for good', () => {
    const handshake = new Error('Broker not connected');
    expect(isRetriable(handshake)).toBe(true);
    expect(isRetriable(Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', cause: handshake }))).toBe(true);
    expect(isRetriable(new Error('Invalid topic'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('fenced'), { type: 'INVALID_PRODUCER_EPOCH' }))).toBe(false);
  });
});
