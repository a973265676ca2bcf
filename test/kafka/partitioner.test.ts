import { createRequire } from 'node:module';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fastDefaultPartitioner, murmur2 } from '../../src/kafka/partitioner.js';

const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

/** Deterministic pseudo-random bytes, so a failure can be replayed. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const metadata = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 }));

describe('murmur2', () => {
  it("matches kafkajs's Java-compatible murmur2 on every length and many byte patterns", () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const key = bytes(seed, seed % 67);
      expect(murmur2(key), `key ${key.toString('hex')}`).toBe(kafkajsMurmur2(key));
    }
  });

  it("gives Kafka's known hash of a sample id", () => {
    expect(murmur2(Buffer.from('bench-0'))).toBe(kafkajsMurmur2('bench-0'));
    expect(murmur2(Buffer.alloc(0))).toBe(kafkajsMurmur2(Buffer.alloc(0)));
  });
});

describe('fastDefaultPartitioner', () => {
  it("chooses kafkajs's DefaultPartitioner partition for keyed messages and honours an explicit partition", () => {
    const ours = fastDefaultPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 7, 12]) {
      const partitionMetadata = metadata(partitions);
      for (let i = 0; i < 500; i++) {
        const message = { key: i % 2 ? `sample-${i}` : bytes(i + 7, i % 23), value: 'v' };
        expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message }));
      }
      expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 0 } })).toBe(0);
    }
  });

  it('spreads keyless messages round-robin over partitions with a leader', () => {
    const partitioner = fastDefaultPartitioner();
    const partitionMetadata = metadata(4).map((p) => (p.partitionId === 2 ? { ...p, leader: -1 } : p));
    const chosen = Array.from({ length: 9 }, () => partitioner({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } }));
    expect(new Set(chosen)).toEqual(new Set([0, 1, 3]));
    for (let i = 3; i < chosen.length; i++) expect(chosen[i]).toBe(chosen[i - 3]);
  });
});
