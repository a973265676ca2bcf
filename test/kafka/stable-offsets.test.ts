import { describe, expect, it, vi } from 'vitest';
import type { Kafka } from 'kafkajs';
import { StableOffsets, type OffsetFetchTransport } from '../../src/kafka/stable-offsets.js';
import { decodeOffsetFetchV7 } from '../../src/kafka/offset-fetch-v7.js';

/** A v7 reply: header tags, throttle 0, one topic 't' with the given partitions, group error, tags. */
function reply(partitions: { partition: number; offset: bigint; errorCode?: number }[], groupError = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0, 0, 2, 2, 0x74, partitions.length + 1])];
  for (const p of partitions) {
    const b = Buffer.alloc(4 + 8 + 4 + 1 + 2 + 1);
    b.writeInt32BE(p.partition, 0);
    b.writeBigInt64BE(p.offset, 4);
    b.writeInt32BE(-1, 12);
    b.writeUInt8(0, 16); // metadata null
    b.writeInt16BE(p.errorCode ?? 0, 17);
    parts.push(b);
  }
  const tail = Buffer.alloc(4);
  tail.writeUInt8(0, 0); // topic tags
  tail.writeInt16BE(groupError, 1);
  return Buffer.concat([...parts, tail]);
}

function scripted(replies: Buffer[]): OffsetFetchTransport & { sent: Buffer[]; resets: number } {
  const t = {
    sent: [] as Buffer[],
    resets: 0,
    send: async (payload: Buffer) => (t.sent.push(payload), replies.shift()!),
    reset: () => void t.resets++,
    close: async () => {},
  };
  return t;
}

const kafka = {} as Kafka;

describe('StableOffsets', () => {
  it('sends require_stable, retries UNSTABLE_OFFSET_COMMIT with doubling backoff, and answers in the order asked', async () => {
    expect(decodeOffsetFetchV7(reply([{ partition: 1, offset: 7n }])).offsets[0]!.offset).toBe('7');
    const transport = scripted([
      reply([{ partition: 0, offset: -1n, errorCode: 88 }, { partition: 1, offset: 7n }]),
      reply([{ partition: 0, offset: -1n, errorCode: 88 }, { partition: 1, offset: 7n }]),
      reply([{ partition: 0, offset: 250n }, { partition: 1, offset: 7n }]),
    ]);
    const waits: number[] = [];
    const offsets = new StableOffsets({ kafka, groupId: 'g', transport, initialBackoffMs: 20, wait: async (ms) => void waits.push(ms) });
    expect(await offsets.fetch([{ topic: 't', partition: 1 }, { topic: 't', partition: 0 }, { topic: 'u', partition: 3 }])).toEqual([
      { topic: 't', partition: 1, offset: '7' },
      { topic: 't', partition: 0, offset: '250' },
      { topic: 'u', partition: 3, offset: '-1' },
    ]);
    expect(waits).toEqual([20, 40]);
    expect(transport.sent).toHaveLength(3);
    expect(transport.sent[0]!.at(-2)).toBe(1); // require_stable
  });

  it('finds the coordinator again after NOT_COORDINATOR', async () => {
    const transport = scripted([reply([], 16), reply([{ partition: 0, offset: 5n }])]);
    const offsets = new StableOffsets({ kafka, groupId: 'g', transport, wait: async () => {} });
    expect(await offsets.fetch([{ topic: 't', partition: 0 }])).toEqual([{ topic: 't', partition: 0, offset: '5' }]);
    expect(transport.resets).toBe(1);
  });

  it('fails for good on an error it cannot wait out, naming the group and the error', async () => {
    const offsets = new StableOffsets({ kafka, groupId: 'g', transport: scripted([reply([], 30)]), wait: async () => {} });
    await expect(offsets.fetch([{ topic: 't', partition: 0 }])).rejects.toMatchObject({
      code: 'OFFSETS_UNAVAILABLE',
      retriable: false,
      message: 'could not read the committed offsets of group g: Kafka error code 30',
    });
  });

  it('gives up, retriably, when a transaction stays pending past timeoutMs', async () => {
    const unstable = reply([{ partition: 0, offset: -1n, errorCode: 88 }]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const wait = async (ms: number) => void vi.setSystemTime(Date.now() + ms);
      const offsets = new StableOffsets({ kafka, groupId: 'g', transport: scripted(Array(50).fill(unstable)), timeoutMs: 3_000, wait });
      await expect(offsets.fetch([{ topic: 't', partition: 0 }])).rejects.toMatchObject({ code: 'OFFSETS_UNAVAILABLE', retriable: true, message: expect.stringMatching(/not stable within 3000 ms: UNSTABLE_OFFSET_COMMIT/) });
    } finally {
      vi.useRealTimers();
    }
  });
});
