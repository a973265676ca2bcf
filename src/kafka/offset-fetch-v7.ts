/**
 * OffsetFetch v7 (api key 9), the first version with `require_stable` (KIP-447), encoded
 * and decoded by hand: kafkajs 2.2.4 implements OffsetFetch up to v4 only. v7 is a
 * flexible version: compact strings and arrays (unsigned varint length + 1), and a tagged
 * field buffer after every struct, the request header (v2) and the response header (v1).
 *
 *   Request  => group_id [topics] require_stable TAG_BUFFER
 *     topics => name [partition_indexes] TAG_BUFFER
 *   Response => throttle_time_ms [topics] error_code TAG_BUFFER
 *     topics => name [partitions] TAG_BUFFER
 *       partitions => partition_index committed_offset committed_leader_epoch metadata error_code TAG_BUFFER
 *
 * kafkajs writes a v1 request header (…, client_id) and hands back what follows the
 * correlation id, so the payloads here start with the header's tagged fields.
 */
export const OFFSET_FETCH_API_KEY = 9;
export const OFFSET_FETCH_STABLE_VERSION = 7;

/** Kafka error codes an offset read handles itself; others are reported by number. */
export const KAFKA_ERRORS: Readonly<Record<number, string>> = {
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  88: 'UNSTABLE_OFFSET_COMMIT',
};

export interface OffsetFetchRequest {
  groupId: string;
  topics: { topic: string; partitions: number[] }[];
  requireStable: boolean;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  /** '-1' when the group has none (or while unstable). */
  offset: string;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  offsets: FetchedOffset[];
}

function uvarint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function compactString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from(uvarint(bytes.length + 1)), bytes]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

const NO_TAGS = Buffer.from([0]);

/** The request payload after kafkajs's v1 header: header tags, then the v7 body. */
export function encodeOffsetFetchV7(request: OffsetFetchRequest): Buffer {
  const parts: Buffer[] = [NO_TAGS, compactString(request.groupId), Buffer.from(uvarint(request.topics.length + 1))];
  for (const { topic, partitions } of request.topics) {
    parts.push(compactString(topic), Buffer.from(uvarint(partitions.length + 1)), ...partitions.map(int32), NO_TAGS);
  }
  parts.push(Buffer.from([request.requireStable ? 1 : 0]), NO_TAGS);
  return Buffer.concat(parts);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new RangeError(`OffsetFetch v7 response ends at byte ${this.buf.length}, needed ${this.at + n}`);
  }

  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1);
      const byte = this.buf[this.at++]!;
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    throw new RangeError('OffsetFetch v7 response has a varint longer than 5 bytes');
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1);
    const s = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.at += n - 1;
    return s;
  }

  /** A compact array's length; a null array (0) reads as empty. */
  arrayLength(): number {
    return Math.max(0, this.uvarint() - 1);
  }

  skipTags(): void {
    for (let count = this.uvarint(); count > 0; count--) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size);
      this.at += size;
    }
  }
}

/** Decodes what kafkajs hands back for a v7 request: response header tags, then the body. */
export function decodeOffsetFetchV7(payload: Buffer): OffsetFetchResponse {
  const r = new Reader(payload);
  r.skipTags();
  const throttleTimeMs = r.int32();
  const offsets: FetchedOffset[] = [];
  for (let t = r.arrayLength(); t > 0; t--) {
    const topic = r.compactNullableString() ?? '';
    for (let p = r.arrayLength(); p > 0; p--) {
      const partition = r.int32();
      const offset = r.int64().toString();
      const leaderEpoch = r.int32();
      const metadata = r.compactNullableString();
      const errorCode = r.int16();
      r.skipTags();
      offsets.push({ topic, partition, offset, leaderEpoch, metadata, errorCode });
    }
    r.skipTags();
  }
  const errorCode = r.int16();
  r.skipTags();
  return { throttleTimeMs, errorCode, offsets };
}
