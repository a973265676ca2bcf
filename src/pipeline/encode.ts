/**
 * `encode`: finished records to Kafka records. Augmented samples go to the output topic
 * keyed by sample id; dead letters to the dead-letter topic keyed by the sample id when
 * known, else by the original key. Headers carry the source coordinates and the trace
 * context of the input record (W3C `traceparent`/`tracestate`), so a trace follows a
 * sample from its producer to the student trainer. A record that cannot be encoded is
 * dead-lettered instead (stage `encode`).
 *
 * Size. An augmented record larger than its topic accepts (`maxRecordBytes`, from the
 * topic's `max.message.bytes`) is dead-lettered with RECORD_TOO_LARGE; a dead letter that
 * is too large keeps a truncated key and value, with the original value's size and
 * SHA-256, so no input, however large, can stop the stream at the broker.
 */
import { createHash } from 'node:crypto';
import { type OperatorFunction, type SchedulerLike, asyncScheduler, map } from 'rxjs';
import { TeacherlmError } from '../errors.js';
import type { OutputCodecs } from '../records/codecs.js';
import type { DeadLetter } from '../records/types.js';
import { isValidTraceHeader } from '../telemetry/kafka-headers.js';
import { deadLetterFor } from './dead-letter.js';
import type { Encoded, Finished } from './items.js';
import type { OutRecord, SourceRecord } from './ports.js';
import { recordBytes } from './record-size.js';

/**
 * One header for the source coordinates, `<topic>/<partition>/<offset>` (topic names
 * cannot contain `/`), e.g. `samples.raw/2/1041`: each header costs the producer an
 * encoder per record, so three separate ones slowed the Kafka path measurably.
 */
export const SOURCE_HEADER = 'teacherlm.source';

const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

export interface EncodeOptions {
  codecs: OutputCodecs;
  outputTopic: string;
  deadLetterTopic: string;
  /** Clock for `failedAt` (the pipeline's scheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** The largest record (as {@link recordBytes} counts it) a topic accepts; undefined: no limit known. */
  maxRecordBytes?: (topic: string) => number | undefined;
}

/** A truncated dead letter keeps at most this much of the original key and of the sample id. */
const KEPT_KEY_BYTES = 1024;
const KEPT_MESSAGE_CHARS = 2000;
/** Room for the Avro length varints of the truncated fields to grow. */
const VARINT_SLACK_BYTES = 16;

/**
 * Source coordinates plus the input's W3C trace context, copied when valid and dropped
 * otherwise (header names matched case-insensitively). No propagator runs per record: a
 * traced sample's headers already name its process span (sample-tracing.ts).
 */
export function outputHeaders(record: SourceRecord): Record<string, string | Buffer> {
  const headers: Record<string, string | Buffer> = { [SOURCE_HEADER]: `${record.topic}/${record.partition}/${record.offset}` };
  for (const name of TRACE_HEADERS) {
    const value = traceHeader(record.headers, name);
    if (value !== undefined && isValidTraceHeader(name, value)) headers[name] = value;
  }
  return headers;
}

/** The header's first value, by exact name or else case-insensitively (Java clients may write `TraceParent`). */
function traceHeader(headers: SourceRecord['headers'], name: string): string | Buffer | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  return undefined;
}

/**
 * @example
 * finished$.pipe(encode({ codecs: recordCodecs(), outputTopic: 'samples.augmented', deadLetterTopic: 'samples.dead-letter' }))
 * // { kind: 'augmented', value } -> { out: { topic: 'samples.augmented', key: value.id, value: <Avro>, headers } }
 */
export function encode(options: EncodeOptions, observe: EncodeObservers = {}): OperatorFunction<Finished, Encoded> {
  const encodeOne = encoder(options);
  const { onFinished, onEncoded } = observe;
  if (!onFinished && !onEncoded) return map(encodeOne);
  return map((item) => {
    onFinished?.(item);
    const encoded = encodeOne(item);
    onEncoded?.(encoded);
    return encoded;
  });
}

/** Told of each item before and after its encoding (the pipeline's tracing and dead-letter count), inline rather than as stages of their own. */
export interface EncodeObservers {
  onFinished?: (item: Finished) => void;
  onEncoded?: (item: Encoded) => void;
}

/**
 * For records the broker refused even alone (`RecordsRefused`, a topic's limit lowered
 * after connect): an augmented record becomes a RECORD_TOO_LARGE dead letter, and a dead
 * letter is encoded again, truncated to the limits as the sink now knows them.
 */
export function refusedRecordEncoder(options: EncodeOptions): (item: Encoded, error: TeacherlmError) => Encoded {
  const encodeOne = encoder(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  return (item, error) => {
    if (item.kind === 'dead-letter') return encodeOne({ kind: 'dead-letter', record: item.record, value: options.codecs.deadLetter.decode(item.out.value) });
    const sampleId = typeof item.out.key === 'string' ? item.out.key : (item.out.key?.toString() ?? null);
    return encodeOne(deadLetterFor(item.record, { stage: 'encode', error, attempts: 1, sampleId, now: scheduler.now() }));
  };
}

/** Finished item to Kafka record, dead-lettering what cannot be encoded or cannot fit. */
function encoder(options: EncodeOptions): (item: Finished) => Encoded {
  const scheduler = options.scheduler ?? asyncScheduler;
  const limitOf = options.maxRecordBytes ?? (() => undefined);
  const deadLetterOut = (value: DeadLetter, record: SourceRecord, headers: Record<string, string | Buffer>): OutRecord => ({
    topic: options.deadLetterTopic,
    key: value.sampleId ?? value.key ?? record.key,
    value: options.codecs.deadLetter.encode(value),
    headers,
  });
  const encodeDeadLetter = (item: Finished & { kind: 'dead-letter' }, headers: Record<string, string | Buffer>): Encoded => {
    const out = deadLetterOut(item.value, item.record, headers);
    const limit = limitOf(options.deadLetterTopic);
    if (limit === undefined || recordBytes(out) <= limit) return { record: item.record, kind: item.kind, out };
    return { record: item.record, kind: item.kind, out: truncatedDeadLetter(item.value, item.record, headers, limit, deadLetterOut) };
  };
  const encodeOne = (item: Finished): Encoded => {
    const headers = outputHeaders(item.record);
    if (item.kind === 'dead-letter') return encodeDeadLetter(item, headers);
    const value = options.codecs.augmentedSample.encode(item.value);
    const out = { topic: options.outputTopic, key: item.value.id, value, headers };
    const limit = limitOf(options.outputTopic);
    if (limit === undefined || recordBytes(out) <= limit) return { record: item.record, kind: item.kind, out };
    const error = new TeacherlmError(
      'RECORD_TOO_LARGE',
      `the augmented record is ${recordBytes(out)} bytes, above the ${limit} bytes ${options.outputTopic} accepts (max.message.bytes)`,
    );
    return encodeOne(deadLetterFor(item.record, { stage: 'encode', error, attempts: 1, sampleId: item.value.id, now: scheduler.now() }));
  };
  return (item) => {
    try {
      return encodeOne(item);
    } catch (error) {
      if (item.kind === 'dead-letter') throw error;
      const sampleId = item.value.id;
      return encodeOne(deadLetterFor(item.record, { stage: 'encode', error, attempts: 1, sampleId, now: scheduler.now() }));
    }
  };
}

const clipBytes = (value: Buffer | null, max: number): Buffer | null => (value === null || value.length <= max ? value : value.subarray(0, max));
/** Clips to at most `max` UTF-8 bytes without splitting a character. */
function clipText(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  return Buffer.from(value).subarray(0, maxBytes).toString().replace(/\uFFFD+$/, '');
}

/**
 * A dead letter cut down to `limit`: key, sample id and message clipped, the value cut to
 * the room left, and the original value's size and SHA-256 recorded. Trace headers are
 * dropped only if even that does not fit.
 */
function truncatedDeadLetter(
  dl: DeadLetter,
  record: SourceRecord,
  headers: Record<string, string | Buffer>,
  limit: number,
  toOut: (value: DeadLetter, record: SourceRecord, headers: Record<string, string | Buffer>) => OutRecord,
): OutRecord {
  const original = dl.value ?? Buffer.alloc(0);
  const base: DeadLetter = {
    ...dl,
    key: clipBytes(dl.key, KEPT_KEY_BYTES),
    sampleId: dl.sampleId === null ? null : clipText(dl.sampleId, KEPT_KEY_BYTES),
    errorMessage: dl.errorMessage.length > KEPT_MESSAGE_CHARS ? `${dl.errorMessage.slice(0, KEPT_MESSAGE_CHARS)}...` : dl.errorMessage,
    value: Buffer.alloc(0),
    originalValueSize: original.length,
    originalValueSha256: createHash('sha256').update(original).digest('hex'),
  };
  const recordKey = clipBytes(record.key, KEPT_KEY_BYTES);
  const keyed = { ...record, key: recordKey };
  let kept = headers;
  let empty = toOut(base, keyed, kept);
  if (recordBytes(empty) + VARINT_SLACK_BYTES > limit) {
    kept = { [SOURCE_HEADER]: headers[SOURCE_HEADER] as string };
    empty = toOut(base, keyed, kept);
  }
  const room = Math.max(0, limit - recordBytes(empty) - VARINT_SLACK_BYTES);
  return toOut({ ...base, value: original.subarray(0, room) }, keyed, kept);
}
