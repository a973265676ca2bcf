import { describe, expect, it } from 'vitest';
import { decodeOffsetFetchV7, encodeOffsetFetchV7 } from '../../src/kafka/offset-fetch-v7.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('OffsetFetch v7 encoding', () => {
  it('writes header tags, compact strings and arrays, partition indexes, require_stable and the tag buffers', () => {
    const bytes = encodeOffsetFetchV7({ groupId: 'g', topics: [{ topic: 't', partitions: [0, 2] }], requireStable: true });
    expect(bytes.toString('hex')).toBe(
      [
        '00', // request header v2 tagged fields (after kafkajs's v1 header)
        '0267', // group_id 'g': length + 1, then bytes
        '02', // one topic
        '0274', // name 't'
        '03', // two partitions
        '00000000',
        '00000002',
        '00', // topic tags
        '01', // require_stable
        '00', // body tags
      ].join(''),
    );
  });

  it('writes lengths of 128 and more as multi-byte unsigned varints, and require_stable false as 0', () => {
    const bytes = encodeOffsetFetchV7({ groupId: 'a'.repeat(200), topics: [], requireStable: false });
    expect(bytes.subarray(0, 3).toString('hex')).toBe('00c901'); // 201 = 0x49 | 0x80, 0x01
    expect(bytes.subarray(203).toString('hex')).toBe('010000'); // empty topics (0 + 1), require_stable 0, tags
  });
});

describe('OffsetFetch v7 decoding', () => {
  const reply = [
    '00', // response header v1 tagged fields
    '00000000', // throttle_time_ms
    '02', // one topic
    '0274', // 't'
    '03', // two partitions
    '00000000 0000000000000412 ffffffff 01 0000 00', // p0, offset 1042, epoch -1, metadata '', no error
    '00000002 ffffffffffffffff ffffffff 00 0058 00', // p2, offset -1, metadata null, UNSTABLE_OFFSET_COMMIT
    '00', // topic tags
    '0000', // error_code
  ];

  it('reads offsets as strings, leader epochs, nullable metadata and error codes per partition', () => {
    expect(decodeOffsetFetchV7(hex([...reply, '00'].join('')))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      offsets: [
        { topic: 't', partition: 0, offset: '1042', leaderEpoch: -1, metadata: '', errorCode: 0 },
        { topic: 't', partition: 2, offset: '-1', leaderEpoch: -1, metadata: null, errorCode: 88 },
      ],
    });
  });

  it('skips tagged fields it does not know, and reads a group-level error', () => {
    const tagged = hex(['01 05 02 aabb', '000003e8', '01', '0010', '01 07 01 ff'].join(''));
    expect(decodeOffsetFetchV7(tagged)).toEqual({ throttleTimeMs: 1000, errorCode: 16, offsets: [] });
  });

  it('names a truncated reply instead of reading past its end', () => {
    expect(() => decodeOffsetFetchV7(hex(reply.join('')).subarray(0, 20))).toThrow(/OffsetFetch v7 response ends at byte 20/);
  });
});
