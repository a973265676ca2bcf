/**
 * The default wire format of Avro records on our topics (`format: avro`): Avro
 * **single-object encoding** (Avro specification, "Single object encoding"):
 *
 * ```
 * C3 01 | 8-byte CRC-64-AVRO fingerprint of the writer schema (little-endian) | Avro binary body
 * ```
 *
 * Why not plain Avro binary: a reader could not tell which schema version wrote a record,
 * so the schemas could never evolve safely. Why the default rather than Confluent framing
 * (magic 0 + 4-byte registry id, `format: confluent`, see confluent-codec.ts): that id
 * means nothing without a running schema registry, which a topology need not have.
 * Single-object encoding identifies the writer schema by content, needs no service, and a
 * reader resolves any writer version it knows (see {@link AvroCodec}). The header also
 * lets `auto` input tell Avro from JSON.
 */
import { TeacherlmError } from '../errors.js';

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
export const HEADER_LENGTH = 10;

/** Prefixes an Avro body with the single-object header. */
export function frame(fingerprint: Buffer, body: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MAGIC, fingerprint, body], HEADER_LENGTH + body.length);
}

/** True when `bytes` starts with the single-object marker. */
export function isSingleObject(bytes: Buffer): boolean {
  return bytes.length >= HEADER_LENGTH && bytes[0] === 0xc3 && bytes[1] === 0x01;
}

/** Splits a single-object encoded record into its writer fingerprint and Avro body. */
export function unframe(bytes: Buffer): { fingerprint: Buffer; body: Buffer } {
  if (!isSingleObject(bytes)) {
    throw new TeacherlmError('DECODE_FAILED', 'not an Avro single-object encoded record (expected header C3 01)');
  }
  return { fingerprint: bytes.subarray(2, HEADER_LENGTH), body: bytes.subarray(HEADER_LENGTH) };
}
