/**
 * `encode`: finished records to Kafka records. Augmented samples go to the output topic
 * keyed by sample id; dead letters to the dead-letter topic keyed by the sample id when
 * known, else by the original key. Headers carry the source coordinates and the trace
 * context of the input record (W3C `traceparent`/`tracestate`), so a trace follows a
 * sample from its producer to the student trainer. A record that cannot be encoded is
 * dead-lettered instead (stage `encode`).
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, map } from 'rxjs';
import type { OutputCodecs } from '../records/codecs.js';
import { extractTraceContext, injectTraceHeaders } from '../telemetry/kafka-headers.js';
import { deadLetterFor } from './dead-letter.js';
import type { Encoded, Finished } from './items.js';
import type { SourceRecord } from './ports.js';

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
}

/** Source coordinates plus trace context. With no OpenTelemetry SDK registered, the input's trace headers pass through as they are. */
export function outputHeaders(record: SourceRecord): Record<string, string | Buffer> {
  const headers: Record<string, string | Buffer> = { [SOURCE_HEADER]: `${record.topic}/${record.partition}/${record.offset}` };
  injectTraceHeaders(headers, extractTraceContext(record.headers));
  for (const name of TRACE_HEADERS) {
    const value = headers[name] ?? record.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/**
 * @example
 * finished$.pipe(encode({ codecs: recordCodecs(), outputTopic: 'samples.augmented', deadLetterTopic: 'samples.dead-letter' }))
 * // { kind: 'augmented', value } -> { out: { topic: 'samples.augmented', key: value.id, value: <Avro>, headers } }
 */
export function encode(options: EncodeOptions): OperatorFunction<Finished, Encoded> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const encodeOne = (item: Finished): Encoded => {
    const headers = outputHeaders(item.record);
    if (item.kind === 'augmented') {
      const value = options.codecs.augmentedSample.encode(item.value);
      return { record: item.record, kind: item.kind, out: { topic: options.outputTopic, key: item.value.id, value, headers } };
    }
    const value = options.codecs.deadLetter.encode(item.value);
    const key = item.value.sampleId ?? item.record.key;
    return { record: item.record, kind: item.kind, out: { topic: options.deadLetterTopic, key, value, headers } };
  };
  return map((item) => {
    try {
      return encodeOne(item);
    } catch (error) {
      if (item.kind === 'dead-letter') throw error;
      const sampleId = item.value.id;
      return encodeOne(deadLetterFor(item.record, { stage: 'encode', error, attempts: 1, sampleId, now: scheduler.now() }));
    }
  });
}
