/**
 * Tracing for a pipeline without touching its operators: wrap its source and sink.
 *
 * - The source side starts one CONSUMER span per consumed record ("<topic> process"),
 *   child of the context the record's producer put in its headers, and replaces the
 *   record's `traceparent`/`tracestate` with that span's context.
 * - The pipeline carries those headers to its output record (encode copies them).
 * - The sink side recognises the span by the output record's `traceparent` and ends it
 *   when the broker acknowledged the record (an error status if the send failed).
 *
 * So one trace reads: produce (send) -> pipeline (process, consume to ack) -> tail
 * (receive). Without a registered SDK the spans are no-ops and headers pass unchanged.
 * Spans whose record never reaches the sink (a rebalance dropped it) are ended as
 * abandoned once more than `maxOpenSpans` are open, so memory stays bounded.
 *
 * @example
 * const tracing = recordTracing();
 * runPipeline({ ..., source: tracing.source(kafkaSource), sink: tracing.sink(kafkaSink) });
 */
import { type Span, trace } from '@opentelemetry/api';
import { map } from 'rxjs';
import type { OutRecord, PartitionCommitter, RecordSink, RecordSource, SourceRecord } from './ports.js';
import { extractTraceContext, injectTraceHeaders } from '../telemetry/kafka-headers.js';
import { contextWithSpan, endSpan, messagingAttributes, startConsumerSpan } from '../telemetry/spans.js';

export const DEFAULT_MAX_OPEN_SPANS = 100_000;

export interface RecordTracing {
  source(source: RecordSource): RecordSource;
  sink(sink: RecordSink): RecordSink;
  /** Exactly-once: the process spans end when their record's transaction commits. */
  committer(committer: PartitionCommitter): PartitionCommitter;
  /** Spans started and not yet ended. */
  openSpans(): number;
}

export function recordTracing(options: { maxOpenSpans?: number } = {}): RecordTracing {
  const maxOpen = options.maxOpenSpans ?? DEFAULT_MAX_OPEN_SPANS;
  /** Open process spans by span id, oldest first. */
  const open = new Map<string, Span>();

  const startProcessSpan = (record: SourceRecord): SourceRecord => {
    const span = startConsumerSpan(
      `${record.topic} process`,
      record.headers,
      messagingAttributes('process', { topic: record.topic, partition: record.partition, offset: record.offset }),
    );
    if (!span.isRecording()) return record;
    open.set(span.spanContext().spanId, span);
    if (open.size > maxOpen) {
      const [oldestId, oldest] = open.entries().next().value as [string, Span];
      open.delete(oldestId);
      oldest.setAttribute('teacherlm.abandoned', true);
      endSpan(oldest);
    }
    const headers = { ...record.headers };
    delete headers.traceparent;
    delete headers.tracestate;
    return { ...record, headers: injectTraceHeaders(headers, contextWithSpan(span)) };
  };

  const spanOf = (record: OutRecord): Span | undefined => {
    const spanId = trace.getSpanContext(extractTraceContext(record.headers))?.spanId;
    const span = spanId === undefined ? undefined : open.get(spanId);
    if (span) open.delete(spanId!);
    return span;
  };

  /** Sends through `send`, ending the records' open spans with its outcome. */
  const traced = async (records: OutRecord[], send: () => Promise<void>): Promise<void> => {
    // No span open (tracing off, or all ended): no record can carry one, skip the header parsing.
    if (open.size === 0) return send();
    const spans = records.map((r) => [r, spanOf(r)] as const).filter((pair): pair is readonly [OutRecord, Span] => pair[1] !== undefined);
    try {
      await send();
    } catch (err) {
      for (const [, span] of spans) endSpan(span, err);
      throw err;
    }
    for (const [record, span] of spans) {
      span.setAttribute('teacherlm.output.topic', record.topic);
      endSpan(span);
    }
  };

  return {
    openSpans: () => open.size,
    committer: (committer) => ({
      assign: (topic, partition) => committer.assign(topic, partition),
      revoke: (topic, partition) => committer.revoke(topic, partition),
      commit: (topic, partition, records, nextOffset) => traced(records, () => committer.commit(topic, partition, records, nextOffset)),
      close: () => committer.close(),
    }),
    source: (source) => {
      const traced: RecordSource = {
        records: () => source.records().pipe(map(startProcessSpan)),
        pause: (topic, partition) => source.pause(topic, partition),
        resume: (topic, partition) => source.resume(topic, partition),
        commit: (offsets) => source.commit(offsets),
        stop: () => source.stop(),
        stats: () => source.stats(),
      };
      if (source.assigned) traced.assigned = () => source.assigned!();
      if (source.rebalances) traced.rebalances = () => source.rebalances!();
      if (source.lagByPartition) traced.lagByPartition = () => source.lagByPartition!();
      if (source.caughtUp) traced.caughtUp = () => source.caughtUp!();
      if (source.committedOffsets) traced.committedOffsets = (partitions) => source.committedOffsets!(partitions);
      if (source.seek) traced.seek = (topic, partition, offset) => source.seek!(topic, partition, offset);
      return traced;
    },
    sink: (sink) => ({
      send: (records) => traced(records, () => sink.send(records)),
      flush: () => sink.flush(),
      close: () => sink.close(),
      ...(sink.maxRecordBytes ? { maxRecordBytes: (topic: string) => sink.maxRecordBytes?.(topic) } : {}),
    }),
  };
}
