import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES_PER_PARTITION, DEFAULT_MAX_WAIT_TIME_MS, resolveSourceOptions } from '../../src/kafka/source-options.js';

const kafka = new Kafka({ brokers: ['127.0.0.1:1'] });

describe('resolveSourceOptions', () => {
  it('fetches small per-partition batches by default, so a pause mid-batch refetches little', () => {
    const { consumerConfig } = resolveSourceOptions({ kafka, groupId: 'g', topics: ['t'] });
    expect(consumerConfig).toEqual({ readUncommitted: false, maxWaitTimeInMs: DEFAULT_MAX_WAIT_TIME_MS, maxBytesPerPartition: DEFAULT_MAX_BYTES_PER_PARTITION });
    expect(DEFAULT_MAX_BYTES_PER_PARTITION).toBeLessThan(1024 * 1024);
  });

  it("lets the caller's consumer config win, and drops a groupId given there", () => {
    const { consumerConfig, groupId } = resolveSourceOptions({
      kafka,
      groupId: 'g',
      topics: ['t'],
      consumer: { maxBytesPerPartition: 1 << 20, sessionTimeout: 9_000, groupId: 'other' } as never,
    });
    expect(groupId).toBe('g');
    expect(consumerConfig).toEqual({ readUncommitted: false, maxWaitTimeInMs: DEFAULT_MAX_WAIT_TIME_MS, maxBytesPerPartition: 1 << 20, sessionTimeout: 9_000 });
  });

  it('names the bad field', () => {
    expect(() => resolveSourceOptions({ kafka, groupId: 'g', topics: ['t'], partitionsConsumedConcurrently: 0 })).toThrow(
      'partitionsConsumedConcurrently: expected a positive integer, got 0',
    );
  });
});
