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

/** W3C `traceparent`'s fixed part: version-traceid-parentid-flags, 2 + 1 + 32 + 1 + 16 + 1 + 2 characters. */
const TRACEPARENT_CHARS = 55;
/** W3C caps `tracestate` at 32 list members; 512 characters is the size propagators must keep. */
const MAX_TRACESTATE_CHARS = 512;

/**
 * Whether a header value is a W3C trace context a reader could use: a `traceparent` of
 * the right shape (not version ff, ids not all zero, length bounded) or a short printable
 * `tracestate`. Anything else is dropped, never copied on: a producer's 50 kB of garbage
 * must not travel to every output record.
 *
 * Runs on every output record whose input carries a trace context (with tracing off too),
 * so it accepts what /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
 * on the decoded text would (tested against it), without decoding a Buffer and without
 * the captures (bench/trace-headers.bench.ts).
 */
export function isValidTraceHeader(name: 'traceparent' | 'tracestate', value: string | Buffer): boolean {
  if (value.length > (name === 'traceparent' ? 256 : MAX_TRACESTATE_CHARS)) return false;
  if (name === 'tracestate') return printableAscii(value);
  if (value.length < TRACEPARENT_CHARS) return false;
  const text = typeof value === 'string';
  // The fixed part must be ASCII, so a Buffer's bytes there are its decoded characters.
  if (!fixedPartOf(value)) return false;
  if (value.length === TRACEPARENT_CHARS) return true;
  // A later version may add fields after a dash; version 00 has none.
  if ((codeAt(value, 0) === ZERO && codeAt(value, 1) === ZERO) || codeAt(value, TRACEPARENT_CHARS) !== DASH) return false;
  return text ? !hasLineTerminator(value, TRACEPARENT_CHARS + 1) : !hasUtf8LineTerminator(value, TRACEPARENT_CHARS + 1);
}

/**
 * The flags (0-255) of a plain version-00 `traceparent` that {@link isValidTraceHeader}
 * accepts (nothing after the flags), read without decoding or a regex; -1 for anything
 * else, which the W3C propagator then reads (other versions, a tracestate's company, a
 * malformed or all-zero id). Its ids are characters 3-34 and 36-51 (a Buffer's latin1).
 */
export function plainTraceparentFlags(value: string | Buffer): number {
  if (value.length !== TRACEPARENT_CHARS || !fixedPartOf(value)) return -1;
  if (codeAt(value, 0) !== ZERO || codeAt(value, 1) !== ZERO) return -1;
  return (hexValue(codeAt(value, 53)) << 4) | hexValue(codeAt(value, 54));
}

/**
 * Whether a `traceparent` value, if the W3C propagator accepts it at all, says "not
 * sampled", read from one character: it must start with a hex digit (the propagator allows
 * one leading whitespace, which would shift the fields) and its flags' last digit, at 54,
 * be even; a value too short, or with no hex digit there, is refused by the propagator
 * anyway. Lets a parent-based sampler settle most records before validating the header.
 */
export function unsampledIfValid(value: string | Buffer): boolean {
  if (value.length < TRACEPARENT_CHARS) return true;
  const first = codeAt(value, 0);
  if (first > 0xff || NOT_HEX[first] !== 0) return false;
  const c = codeAt(value, 54);
  if (c > 0xff || NOT_HEX[c] !== 0) return true;
  return (hexValue(c) & 1) === 0;
}

const codeAt = (value: string | Buffer, i: number): number => (typeof value === 'string' ? value.charCodeAt(i) : value[i]!);
const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c - 0x57);

function fixedPartOf(value: string | Buffer): boolean {
  return typeof value === 'string' ? fixedPartValid(value) : fixedPartBytesValid(value);
}

const DASH = 0x2d;
const ZERO = 0x30;
const F = 0x66;
/** 1 for every byte but a lowercase hex digit's. */
const NOT_HEX = Uint8Array.from({ length: 256 }, (_, c) => ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ? 0 : 1));

/** The fixed part alone, anchored at both ends: a test, no captures (nothing allocated). */
const FIXED_PART = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/**
 * version-traceid-parentid-flags in lowercase hex, not version ff, neither id all zeros.
 * A string by one regex test (its character reads are slow on the concatenated strings
 * template literals make), a Buffer by its bytes.
 */
function fixedPartValid(text: string): boolean {
  const fixed = text.length === TRACEPARENT_CHARS ? text : text.slice(0, TRACEPARENT_CHARS);
  return FIXED_PART.test(fixed) && !fixed.startsWith(ZERO_TRACE_ID, 3) && !fixed.startsWith(ZERO_PARENT_ID, 36) && !fixed.startsWith('ff');
}

/** {@link fixedPartValid} over a Buffer's bytes: each field's bytes folded without a branch, then checked once. */
function fixedPartBytesValid(bytes: Buffer): boolean {
  if (bytes[2] !== DASH || bytes[35] !== DASH || bytes[52] !== DASH) return false;
  // NOT_HEX[b] is 1 for a byte that is no lowercase hex digit; b ^ 0x30 is 0 only for '0'.
  let bad = NOT_HEX[bytes[0]!]! | NOT_HEX[bytes[1]!]! | NOT_HEX[bytes[53]!]! | NOT_HEX[bytes[54]!]!;
  let trace = 0;
  for (let i = 3; i < 35; i++) {
    const b = bytes[i]!;
    bad |= NOT_HEX[b]!;
    trace |= b ^ ZERO;
  }
  let parent = 0;
  for (let i = 36; i < 52; i++) {
    const b = bytes[i]!;
    bad |= NOT_HEX[b]!;
    parent |= b ^ ZERO;
  }
  return bad === 0 && trace !== 0 && parent !== 0 && !(bytes[0] === F && bytes[1] === F);
}

/** What a regex's `.` refuses: \n, \r, U+2028, U+2029. */
function hasLineTerminator(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** The same in UTF-8 bytes: a decoder yields \n and \r only from their bytes, and U+2028/9 only from E2 80 A8/A9. */
function hasUtf8LineTerminator(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0a || b === 0x0d) return true;
    if (b === 0xe2 && bytes[i + 1] === 0x80 && (bytes[i + 2] === 0xa8 || bytes[i + 2] === 0xa9)) return true;
  }
  return false;
}

/** Only characters (or bytes: any above 0x7f decodes to a character outside the range) from 0x20 to 0x7e. */
function printableAscii(value: string | Buffer): boolean {
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
  }
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}
