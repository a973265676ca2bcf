/**
 * How many bytes a record takes in a Kafka record batch, as the broker counts it against
 * the topic's `max.message.bytes`: key, value and headers, plus the per-record varints,
 * attributes and deltas. An upper bound, so whatever fits by this count fits the broker.
 */
import type { OutRecord } from './ports.js';

/** Per record: length, attributes, timestamp and offset deltas, key/value/header lengths (varints, worst case). */
export const RECORD_OVERHEAD_BYTES = 32;
/** Per header: its key and value length varints, worst case. */
const HEADER_OVERHEAD_BYTES = 10;
/** A record batch's own header (61 bytes in format v2), rounded up. */
export const BATCH_OVERHEAD_BYTES = 128;

export function recordBytes(record: OutRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + record.value.length + (record.key === null ? 0 : Buffer.byteLength(record.key));
  for (const name in record.headers) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!);
  return bytes;
}

/** The largest record that fits alone in a batch under `maxMessageBytes`. */
export function recordLimit(maxMessageBytes: number): number {
  return maxMessageBytes - BATCH_OVERHEAD_BYTES;
}
