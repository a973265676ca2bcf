import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  type KafkaHeaders,
  extractTraceContext,
  injectTraceHeaders,
  isValidTraceHeader,
  kafkaHeaderGetter,
  plainTraceparentFlags,
  unsampledIfValid,
} from '../../src/telemetry/kafka-headers.js';
import { contextWithSpan, startProducerSpan } from '../../src/telemetry/spans.js';
import { inMemoryTracing } from '../support/in-memory-tracing.js';
import { regexTraceHeaderValid } from '../support/trace-header-regex.js';

describe('kafkaHeaderGetter', () => {
  it('decodes Buffer values, arrays and keys of any case', () => {
    const headers: KafkaHeaders = { TraceParent: Buffer.from('abc'), multi: [Buffer.from('x'), 'y'], plain: 'p' };
    expect(kafkaHeaderGetter.get(headers, 'traceparent')).toBe('abc');
    expect(kafkaHeaderGetter.get(headers, 'multi')).toEqual(['x', 'y']);
    expect(kafkaHeaderGetter.get(headers, 'plain')).toBe('p');
    expect(kafkaHeaderGetter.get(headers, 'missing')).toBeUndefined();
    expect(kafkaHeaderGetter.keys(headers)).toEqual(['TraceParent', 'multi', 'plain']);
  });
});

describe('trace context through Kafka headers', () => {
  inMemoryTracing(); // a recording SDK, so spans have real contexts

  it('injects a W3C traceparent that extracts back to the same span context', () => {
    const span = startProducerSpan('send');
    const headers = injectTraceHeaders<KafkaHeaders>({}, contextWithSpan(span));
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);

    // What a kafkajs consumer receives: the same header as a Buffer.
    const received: KafkaHeaders = { traceparent: Buffer.from(String(headers.traceparent)) };
    const remote = trace.getSpanContext(extractTraceContext(received));
    expect(remote).toMatchObject({ traceId, spanId, isRemote: true });
  });

  it('leaves the context empty when the headers carry none', () => {
    expect(trace.getSpanContext(extractTraceContext({ other: Buffer.from('1') }))).toBeUndefined();
    expect(extractTraceContext(undefined)).toBe(ROOT_CONTEXT);
  });
});

describe('isValidTraceHeader', () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const zeros = (n: number) => '0'.repeat(n);
  const cases: (string | Buffer)[] = [
    valid,
    `01${valid.slice(2)}`,
    `ff${valid.slice(2)}`,
    `fe${valid.slice(2)}-later-fields`,
    `cc${valid.slice(2)}-`,
    `cc${valid.slice(2)}-a\nb`,
    `cc${valid.slice(2)}-a\rb`,
    `cc${valid.slice(2)}-\u2028`,
    `cc${valid.slice(2)}-\u2029x`,
    `cc${valid.slice(2)}-é🚀`,
    `cc${valid.slice(2)}x`,
    `${valid}-extra`,
    `00-${zeros(32)}-b7ad6b7169203331-01`,
    `00-0af7651916cd43dd8448eb211c80319c-${zeros(16)}-01`,
    `00-${zeros(31)}1-${zeros(15)}1-00`,
    valid.toUpperCase(),
    valid.slice(0, 54),
    `cc${valid.slice(2)}-${'x'.repeat(200)}`,
    `cc${valid.slice(2)}-${'x'.repeat(201)}`,
    '',
    'junk',
  ];
  // Every character of the fixed part replaced in turn by characters the regex must refuse or accept.
  for (let i = 0; i < 55; i++) for (const c of ['0', 'a', 'f', 'g', 'A', '-', 'é', '\n', ' ']) cases.push(valid.slice(0, i) + c + valid.slice(i + 1));
  // As Buffers too, and Buffers that are not valid UTF-8.
  const withBuffers = [
    ...cases,
    ...cases.map((c) => Buffer.from(c as string, 'utf8')),
    Buffer.concat([Buffer.from(`cc${valid.slice(2)}-`), Buffer.from([0xe2, 0x0a])]),
    Buffer.concat([Buffer.from(`cc${valid.slice(2)}-`), Buffer.from([0xe2, 0x80])]),
    Buffer.concat([Buffer.from(`cc${valid.slice(2)}-`), Buffer.from([0xff, 0xfe])]),
    Buffer.concat([Buffer.from(valid.slice(0, 20)), Buffer.from([0xc3]), Buffer.from(valid.slice(21))]),
  ];

  it('accepts and refuses a traceparent exactly as the regex over its decoded text does', () => {
    let accepted = 0;
    for (const value of withBuffers) {
      const expected = regexTraceHeaderValid('traceparent', value);
      expect([String(value), isValidTraceHeader('traceparent', value)]).toEqual([String(value), expected]);
      if (expected) accepted++;
    }
    // Both kinds occur: the cases are not all refused (or all accepted) alike.
    expect(accepted).toBeGreaterThan(20);
    expect(accepted).toBeLessThan(withBuffers.length - 100);
  });

  it('reads the flags of a valid plain version-00 traceparent only, and -1 for anything else', () => {
    let plain = 0;
    for (const value of withBuffers) {
      const text = typeof value === 'string' ? value : value.toString('utf8');
      const expected = regexTraceHeaderValid('traceparent', value) && value.length === 55 && text.startsWith('00-') ? parseInt(text.slice(53), 16) : -1;
      expect([text, plainTraceparentFlags(value)]).toEqual([text, expected]);
      if (expected >= 0) plain++;
    }
    expect(plain).toBeGreaterThan(10);
    expect(plainTraceparentFlags(`${valid.slice(0, 53)}ff`)).toBe(255);
  });

  it('says "unsampled" only of a value the W3C propagator refuses or reads as unsampled', () => {
    const shifted = [` ${valid}`, `\t${valid.slice(0, 53)}00`, ` ${valid.slice(0, 53)}0a`, `${valid} `, `${valid.slice(0, 53)}0a`, `${valid.slice(0, 53)}0b`, `${valid.slice(0, 53)}00\n`];
    let unsampled = 0;
    for (const value of [...withBuffers, ...shifted, ...shifted.map((t) => Buffer.from(t))]) {
      if (!unsampledIfValid(value)) continue;
      unsampled++;
      const parent = trace.getSpanContext(extractTraceContext({ traceparent: value }));
      expect([String(value), parent === undefined || !trace.isSpanContextValid(parent) || (parent.traceFlags & 1) === 0]).toEqual([String(value), true]);
    }
    expect(unsampled).toBeGreaterThan(50);
    // A leading whitespace shifts the flags: no answer from position 54 then.
    expect(unsampledIfValid(` ${valid.slice(0, 53)}00`)).toBe(false);
    expect(unsampledIfValid(valid)).toBe(false);
    expect(unsampledIfValid(`${valid.slice(0, 53)}0a`)).toBe(true);
  });

  it('accepts a tracestate of printable ASCII only, as text or bytes', () => {
    const states: (string | Buffer)[] = ['', 'a=1', 'a=1,b=2 ', 'a=\u0001', 'a=\u007f', 'é=1', 'x'.repeat(512), 'x'.repeat(513), '~ !'];
    for (const s of [...states, ...states.map((t) => Buffer.from(t as string)), Buffer.from([0x61, 0x80])]) {
      expect([String(s), isValidTraceHeader('tracestate', s)]).toEqual([String(s), regexTraceHeaderValid('tracestate', s)]);
    }
  });
});
