/**
 * The work of `teacherlm produce`: input rows -> validated RawSamples -> records on the
 * input topic (key = sample id), each with its own PRODUCER span whose context travels
 * in the record's headers (W3C `traceparent`), so the pipeline and `tail` continue the
 * sample's trace.
 *
 * Invalid rows are never silently lost: they are reported through `onInvalid` with their
 * line number, and either skipped (default) or, with `sendInvalid`, sent as they are so
 * the pipeline dead-letters them with its reason.
 *
 * Records go to the sink in chunks, at most `maxInFlightChunks` unacknowledged, so memory
 * stays bounded whatever the file size.
 */
import type { FieldMap } from '../records/field-map.js';
import type { OutRecord, RecordSink } from '../pipeline/ports.js';
import type { AvroCodec } from '../records/avro-codec.js';
import type { RawSample } from '../records/types.js';
import { injectTraceHeaders } from '../telemetry/kafka-headers.js';
import { contextWithSpan, endSpan, messagingAttributes, startProducerSpan } from '../telemetry/spans.js';
import type { Span } from '@opentelemetry/api';
import type { InputRow } from './input-rows.js';
import { mapToSample } from '../records/map-sample.js';

export const VALUE_FORMATS = ['json', 'avro'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

export interface ProduceSamplesOptions {
  rows: AsyncIterable<InputRow>;
  sink: RecordSink;
  topic: string;
  fieldMap: FieldMap;
  /** CSV cells are all strings: an empty context cell means none, metadata is a JSON cell. */
  fromCsv: boolean;
  valueFormat: ValueFormat;
  /** Needed for `valueFormat: 'avro'`. */
  codec?: AvroCodec<RawSample>;
  /** Send invalid rows as they are (the pipeline dead-letters them) instead of skipping them. */
  sendInvalid?: boolean;
  /** Default 500. */
  chunkSize?: number;
  /** Default 4. */
  maxInFlightChunks?: number;
  onInvalid?: (row: InputRow, reason: string) => void;
  /** Called after each acknowledged chunk with the running totals. */
  onProgress?: (totals: ProduceTotals) => void;
}

export interface ProduceTotals {
  /** Rows read from the file (blank lines excepted). */
  rows: number;
  /** Valid samples acknowledged by the broker. */
  sent: number;
  /** Rows that failed validation. */
  invalid: number;
  /** Of those, how many were sent anyway (`sendInvalid`). */
  invalidSent: number;
}

interface Chunk {
  records: OutRecord[];
  spans: Span[];
  valid: number;
  invalid: number;
}

export async function produceSamples(options: ProduceSamplesOptions): Promise<ProduceTotals> {
  const { sink, topic, valueFormat, codec } = options;
  const chunkSize = options.chunkSize ?? 500;
  const maxInFlight = options.maxInFlightChunks ?? 4;
  const totals: ProduceTotals = { rows: 0, sent: 0, invalid: 0, invalidSent: 0 };
  // These never reject (an unobserved rejection would kill the process); the first
  // failure is kept and thrown from the loop instead.
  const inFlight: Promise<void>[] = [];
  let failure: unknown;
  let chunk: Chunk = { records: [], spans: [], valid: 0, invalid: 0 };

  const encode = (sample: RawSample): Buffer =>
    valueFormat === 'avro' ? codec!.encode(sample) : Buffer.from(JSON.stringify(sample));

  const add = (key: string | null, value: Buffer, attrs: Record<string, string | number>, valid: boolean) => {
    const span = startProducerSpan(`${topic} send`, { ...messagingAttributes('send', { topic, ...(key ? { key } : {}) }), ...attrs });
    chunk.records.push({ topic, key, value, headers: injectTraceHeaders({}, contextWithSpan(span)) });
    chunk.spans.push(span);
    if (valid) chunk.valid++;
    else chunk.invalid++;
  };

  const flush = async () => {
    if (chunk.records.length === 0) return;
    const sending = chunk;
    chunk = { records: [], spans: [], valid: 0, invalid: 0 };
    inFlight.push(
      sink.send(sending.records).then(
        () => {
          for (const span of sending.spans) endSpan(span);
          totals.sent += sending.valid;
          totals.invalidSent += sending.invalid;
          options.onProgress?.({ ...totals });
        },
        (err: unknown) => {
          for (const span of sending.spans) endSpan(span, err);
          failure ??= err;
        },
      ),
    );
    // Chunks are acknowledged in order (one producer), so waiting for the oldest bounds memory.
    if (inFlight.length >= maxInFlight) await inFlight.shift();
    if (failure !== undefined) throw failure;
  };

  try {
    for await (const row of options.rows) {
      totals.rows++;
      const attrs = { 'teacherlm.input.line': row.line };
      let reason = row.error;
      let sample: RawSample | undefined;
      if (row.record && !reason) {
        try {
          sample = mapToSample(row.record, options.fieldMap, options.fromCsv);
        } catch (err) {
          reason = (err as Error).message;
        }
      }
      if (sample) {
        add(sample.id, encode(sample), { ...attrs, 'teacherlm.sample.id': sample.id }, true);
      } else {
        totals.invalid++;
        options.onInvalid?.(row, reason ?? 'unreadable row');
        if (options.sendInvalid) add(null, Buffer.from(row.raw), attrs, false);
      }
      if (chunk.records.length >= chunkSize) await flush();
    }
    await flush();
  } finally {
    // Also on failure: let the chunks already sent settle before the caller closes the sink.
    await Promise.all(inFlight);
  }
  if (failure !== undefined) throw failure;
  return totals;
}
