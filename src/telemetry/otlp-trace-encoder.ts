/**
 * The OTLP/protobuf `ExportTraceServiceRequest` for a batch of finished spans, in one pass:
 * the same bytes as the SDK's `ProtobufTraceSerializer` (field order, skipped defaults,
 * minimal varints; tested byte for byte), at less CPU.
 *
 * The SDK's serializer walks the spans twice (a size estimate, then the write) and turns
 * every trace and span id into a fresh `Uint8Array` in each walk; in the echo bench that
 * conversion alone was the largest single telemetry function. Here the ids are written
 * straight from their hex into one buffer the encoder keeps and grows, a resource (the
 * same object on every span of a process) is encoded once and its bytes reused, and each
 * request is returned as its own copy (the transport may hold it for a retry).
 *
 * Wire format: opentelemetry-proto trace/v1/trace.proto and common/v1/common.proto, as the
 * SDK's otlp-transformer 0.223 writes them.
 */
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

type Scope = ReadableSpan['instrumentationScope'];

const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const INITIAL_BYTES = 64 * 1024;

/** A hex digit's value, as the SDK's hexToBinary reads it (so even a malformed id encodes alike). */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}
/** {@link nibble} of every char code below 128, looked up. */
const NIBBLES = Int32Array.from({ length: 128 }, (_, code) => nibble(code));
const nibbleOf = (code: number): number => (code < 128 ? NIBBLES[code]! : nibble(code));

/** Strings up to this length have their encoding (length prefix and UTF-8) cached: attribute keys, span names, topics repeat on every span. */
const CACHED_STRING_CHARS = 96;
const MAX_CACHED_STRINGS = 4096;

function varintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export class OtlpTraceEncoder {
  private buf = new Uint8Array(INITIAL_BYTES);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private readonly text = new TextEncoder();
  /** Each resource's encoded `Resource` message (its tag included), by identity. */
  private readonly resources = new WeakMap<Resource, Uint8Array>();
  /** Short strings' encodings, length prefix included. */
  private readonly strings = new Map<string, Uint8Array>();
  /** The last trace id and the last parent span id written, with their bytes: a sample's spans share their trace id, and most their parent. */
  private readonly traceIds = new IdSlot(16);
  private readonly parentIds = new IdSlot(8);

  /** The request's bytes, a copy of its own. */
  encode(spans: readonly ReadableSpan[]): Uint8Array {
    this.pos = 0;
    for (const [resource, scopes] of groupByResourceAndScope(spans)) {
      this.tag(1, 2);
      const start = this.startLength();
      this.resource(resource);
      for (const scoped of scopes.values()) {
        this.tag(2, 2);
        this.scopeSpans(scoped[0]!.instrumentationScope, scoped);
      }
      if (resource.schemaUrl) {
        this.tag(3, 2);
        this.string(resource.schemaUrl);
      }
      this.finishLength(start);
    }
    return this.buf.slice(0, this.pos);
  }

  private resource(resource: Resource): void {
    let bytes = this.resources.get(resource);
    if (bytes === undefined) {
      const start = this.pos;
      this.tag(1, 2);
      const length = this.startLength();
      if (resource.attributes) this.attributes(resource.attributes, 1);
      this.tag(2, 0);
      this.varint(0);
      this.finishLength(length);
      // A resource still detecting attributes may change: encode it again next time.
      if (resource.asyncAttributesPending) return;
      bytes = this.buf.slice(start, this.pos);
      this.resources.set(resource, bytes);
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private scopeSpans(scope: Scope, spans: readonly ReadableSpan[]): void {
    const start = this.startLength();
    this.tag(1, 2);
    const scopeStart = this.startLength();
    this.tag(1, 2);
    this.string(scope.name);
    if (scope.version) {
      this.tag(2, 2);
      this.string(scope.version);
    }
    const extra = scope as { attributes?: Attributes; droppedAttributesCount?: number };
    if (extra.attributes) this.attributes(extra.attributes, 3);
    if (extra.droppedAttributesCount) {
      this.tag(4, 0);
      this.varint(extra.droppedAttributesCount);
    }
    this.finishLength(scopeStart);
    for (const span of spans) {
      this.tag(2, 2);
      this.span(span);
    }
    if (scope.schemaUrl) {
      this.tag(3, 2);
      this.string(scope.schemaUrl);
    }
    this.finishLength(start);
  }

  private span(span: ReadableSpan): void {
    const start = this.startLength();
    const ctx = span.spanContext();
    this.identity(ctx);
    const parent = span.parentSpanContext;
    if (parent?.spanId) {
      this.tag(4, 2);
      this.hexId(parent.spanId, this.parentIds);
    }
    this.tag(5, 2);
    this.string(span.name);
    // The API's kinds start at 0 for INTERNAL; the proto's 0 is "unspecified".
    const kind = span.kind == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      this.tag(6, 0);
      this.varint(kind);
    }
    this.tag(7, 1);
    this.hrTime(span.startTime);
    this.tag(8, 1);
    this.hrTime(span.endTime);
    if (span.attributes) this.attributes(span.attributes, 9);
    this.tag(10, 0);
    this.varint(span.droppedAttributesCount);
    for (const event of span.events) {
      this.tag(11, 2);
      this.event(event);
    }
    this.tag(12, 0);
    this.varint(span.droppedEventsCount);
    for (const link of span.links) {
      this.tag(13, 2);
      this.link(link);
    }
    this.tag(14, 0);
    this.varint(span.droppedLinksCount);
    this.tag(15, 2);
    const status = this.startLength();
    if (span.status.message) {
      this.tag(2, 2);
      this.string(span.status.message);
    }
    this.tag(3, 0);
    this.varint(span.status.code);
    this.finishLength(status);
    this.tag(16, 5);
    this.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
    this.finishLength(start);
  }

  /** Fields 1-3 of a Span and of a Span.Link alike: trace id, span id, trace state (skipped when empty). */
  private identity(ctx: SpanContext): void {
    this.tag(1, 2);
    this.hexId(ctx.traceId, this.traceIds);
    this.tag(2, 2);
    this.hexId(ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) {
      this.tag(3, 2);
      this.string(traceState);
    }
  }

  private event(event: TimedEvent): void {
    const start = this.startLength();
    this.tag(1, 1);
    this.hrTime(event.time);
    this.tag(2, 2);
    this.string(event.name);
    if (event.attributes) this.attributes(event.attributes, 3);
    this.tag(4, 0);
    this.varint(event.droppedAttributesCount || 0);
    this.finishLength(start);
  }

  private link(link: Link): void {
    const start = this.startLength();
    const ctx: SpanContext = link.context;
    this.identity(ctx);
    if (link.attributes) this.attributes(link.attributes, 4);
    this.tag(5, 0);
    this.varint(link.droppedAttributesCount || 0);
    this.tag(6, 5);
    this.fixed32(spanFlags(ctx.traceFlags, ctx.isRemote));
    this.finishLength(start);
  }

  private attributes(attributes: Attributes, field: number): void {
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      this.tag(field, 2);
      const start = this.startLength();
      this.keyValue(key, attributes[key]);
      this.finishLength(start);
    }
  }

  private keyValue(key: string, value: unknown): void {
    this.tag(1, 2);
    this.string(key);
    this.tag(2, 2);
    const start = this.startLength();
    this.anyValue(value);
    this.finishLength(start);
  }

  private anyValue(value: AttributeValue | unknown): void {
    switch (typeof value) {
      case 'string':
        this.tag(1, 2);
        this.string(value);
        return;
      case 'boolean':
        this.tag(2, 0);
        this.varint(value ? 1 : 0);
        return;
      case 'number':
        if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
          this.tag(3, 0);
          this.varint(value);
        } else {
          this.tag(4, 1);
          this.ensure(8);
          this.view.setFloat64(this.pos, value, true);
          this.pos += 8;
        }
        return;
    }
    if (value instanceof Uint8Array) {
      this.tag(7, 2);
      this.bytes(value);
    } else if (Array.isArray(value)) {
      this.tag(5, 2);
      const start = this.startLength();
      for (const item of value) {
        this.tag(1, 2);
        const itemStart = this.startLength();
        this.anyValue(item);
        this.finishLength(itemStart);
      }
      this.finishLength(start);
    } else if (typeof value === 'object' && value !== null) {
      this.tag(6, 2);
      const start = this.startLength();
      const entries = value as Record<string, unknown>;
      for (const key in entries) {
        if (!Object.prototype.hasOwnProperty.call(entries, key)) continue;
        this.tag(1, 2);
        const kv = this.startLength();
        this.keyValue(key, entries[key]);
        this.finishLength(kv);
      }
      this.finishLength(start);
    }
    // Anything else (undefined, a function, a symbol) is written as an empty AnyValue, as the SDK does.
  }

  // --- primitives ---

  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private tag(field: number, wireType: number): void {
    const t = (field << 3) | wireType;
    if (t >= 0x80) return this.varint(t);
    this.ensure(1);
    this.buf[this.pos++] = t;
  }

  /** A length placeholder of one byte; {@link finishLength} widens it when the message needs more. */
  private startLength(): number {
    this.ensure(1);
    return this.pos++;
  }

  private finishLength(at: number): void {
    const length = this.pos - at - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    let v = length;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  private varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    // Beyond 32 bits, and negative numbers as 64-bit two's complement (10 bytes).
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  private fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** HrTime as fixed64 nanoseconds, split so no product leaves the safe integers (as the SDK's writeHrTimeAsFixed64). */
  private hrTime(time: HrTime): void {
    const [seconds, nanos] = time;
    const lowSeconds = seconds & 0xffff;
    const highSeconds = (seconds / 0x10000) >>> 0;
    const fromLow = lowSeconds * 1e9;
    const fromHigh = highSeconds * 1e9;
    const sumLow = (fromLow >>> 0) + (((fromHigh & 0xffff) * 0x10000) >>> 0) + nanos;
    const low = sumLow >>> 0;
    const high = (Math.floor(fromLow / 0x100000000) + ((fromHigh / 0x10000) >>> 0) + Math.floor(sumLow / 0x100000000)) >>> 0;
    this.ensure(8);
    this.view.setUint32(this.pos, low, true);
    this.view.setUint32(this.pos + 4, high, true);
    this.pos += 8;
  }

  /** An id's bytes from its hex, without the intermediate array; through `slot`, the same id as the slot's last is copied from its bytes. */
  private hexId(hex: string, slot?: IdSlot): void {
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    if (slot !== undefined && n === slot.bytes.length) {
      if (hex !== slot.hex) {
        for (let i = 0; i < n; i++) slot.bytes[i] = (nibbleOf(hex.charCodeAt(2 * i)) << 4) | nibbleOf(hex.charCodeAt(2 * i + 1));
        slot.hex = hex;
      }
      for (let i = 0; i < n; i++) buf[this.pos++] = slot.bytes[i]!;
      return;
    }
    for (let i = 0; i < n; i++) buf[this.pos++] = (nibbleOf(hex.charCodeAt(2 * i)) << 4) | nibbleOf(hex.charCodeAt(2 * i + 1));
  }

  private bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private string(s: string): void {
    const len = s.length;
    if (len <= CACHED_STRING_CHARS) {
      const bytes = this.strings.get(s);
      if (bytes === undefined) {
        const start = this.pos;
        this.uncachedString(s);
        if (this.strings.size >= MAX_CACHED_STRINGS) this.strings.clear();
        this.strings.set(s, this.buf.slice(start, this.pos));
        return;
      }
      const n = bytes.length;
      this.ensure(n);
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[this.pos++] = bytes[i]!;
      return;
    }
    this.uncachedString(s);
  }

  private uncachedString(s: string): void {
    const len = s.length;
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (s.charCodeAt(i) > 127) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      this.bytes(this.text.encode(s));
      return;
    }
    this.varint(len);
    this.ensure(len);
    const buf = this.buf;
    for (let i = 0; i < len; i++) buf[this.pos++] = s.charCodeAt(i);
  }
}

/** One id's hex and its bytes, kept between spans. */
class IdSlot {
  hex = '';
  readonly bytes: Uint8Array;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | (isRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE : 0);
}

/** Spans by resource, then by instrumentation scope, both by identity and in first-seen order (as the SDK groups them). */
function groupByResourceAndScope(spans: readonly ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const out = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = out.get(span.resource);
    if (!scopes) out.set(span.resource, (scopes = new Map()));
    const list = scopes.get(span.instrumentationScope);
    if (list) list.push(span);
    else scopes.set(span.instrumentationScope, [span]);
  }
  return out;
}
