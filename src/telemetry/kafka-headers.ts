/**
 * W3C trace context through Kafka record headers. kafkajs delivers header values as
 * Buffers (and accepts strings or Buffers when producing, possibly repeated), so the
 * getter decodes them; keys are matched case-insensitively because other clients
 * (kcat, Java) may not lower-case `traceparent`.
 */
import {
  type Context,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
  context as contextApi,
  propagation,
} from '@opentelemetry/api';

/** The shape of kafkajs `IHeaders`, kept local so telemetry has no kafkajs dependency. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

function decode(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

export const kafkaHeaderGetter: TextMapGetter<KafkaHeaders> = {
  keys(carrier) {
    return Object.keys(carrier);
  },
  get(carrier, key) {
    let value = carrier[key];
    if (value === undefined) {
      const lower = key.toLowerCase();
      const found = Object.keys(carrier).find((k) => k.toLowerCase() === lower);
      value = found === undefined ? undefined : carrier[found];
    }
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(decode) : decode(value);
  },
};

export const kafkaHeaderSetter: TextMapSetter<KafkaHeaders> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** Writes the trace context of `ctx` (default: the active one) into `headers`; returns them. */
export function injectTraceHeaders<H extends KafkaHeaders>(headers: H, ctx: Context = contextApi.active()): H {
  propagation.inject(ctx, headers, kafkaHeaderSetter);
  return headers;
}

/** The context carried by `headers`, on top of `base` (default: an empty root context). */
export function extractTraceContext(headers: KafkaHeaders | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!headers) return base;
  return propagation.extract(base, headers, kafkaHeaderGetter);
}

/** W3C `traceparent`, version 00 layout (later versions keep its first four fields): version-traceid-parentid-flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** W3C caps `tracestate` at 32 list members; 512 characters is the size propagators must keep. */
const MAX_TRACESTATE_CHARS = 512;

/**
 * Whether a header value is a W3C trace context a reader could use: a `traceparent` of
 * the right shape (not version ff, ids not all zero, length bounded) or a short printable
 * `tracestate`. Anything else is dropped, never copied on: a producer's 50 kB of garbage
 * must not travel to every output record.
 */
export function isValidTraceHeader(name: 'traceparent' | 'tracestate', value: string | Buffer): boolean {
  if (value.length > (name === 'traceparent' ? 256 : MAX_TRACESTATE_CHARS)) return false;
  const text = decode(value);
  if (name === 'tracestate') return /^[\x20-\x7e]*$/.test(text);
  const match = TRACEPARENT.exec(text);
  if (!match) return false;
  const [, version, traceId, parentId] = match;
  if (version === 'ff' || (version === '00' && match[5] !== undefined)) return false;
  return !/^0+$/.test(traceId!) && !/^0+$/.test(parentId!);
}
