/**
 * An OTLP/HTTP receiver for tests: an HTTP server that accepts `/v1/traces` and
 * `/v1/metrics` export requests and decodes them, as a collector would: protobuf
 * (`application/x-protobuf`, the default encoding, decoded by protobufjs with the OTLP
 * messages of otlp-subset.proto) or JSON (`application/json`). Anything else is refused
 * with 415. `encodings` records what arrived, so a test can tell which encoding was used.
 */
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const OTLP = protobuf.parse(readFileSync(join(import.meta.dirname, 'otlp-subset.proto'), 'utf8'), { keepCase: false }).root;
const TRACES_REQUEST = OTLP.lookupType('otlp.ExportTraceServiceRequest');
const METRICS_REQUEST = OTLP.lookupType('otlp.ExportMetricsServiceRequest');

/** Protobuf to OTLP's JSON shape: camelCase fields, int64 as strings, ids as lower-case hex. */
function fromProtobuf(type: protobuf.Type, body: Buffer): Record<string, unknown> {
  const object = type.toObject(type.decode(body), { longs: String, enums: Number, defaults: false, arrays: true });
  return hexIds(object) as Record<string, unknown>;
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
function hexIds(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return key && ID_FIELDS.has(key) ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => hexIds(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hexIds(v, k)]));
  return value;
}

export interface OtlpDataPoint {
  attributes?: { key: string; value: Record<string, unknown> }[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
}

export interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: OtlpDataPoint[] };
  sum?: { dataPoints: OtlpDataPoint[] };
  histogram?: { dataPoints: OtlpDataPoint[] };
}

export interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** Absent (or empty) for a root span. */
  parentSpanId?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
  /** The `service.name` of the resource that exported it (added by the receiver). */
  service?: string;
}

export interface OtlpReceiver {
  readonly url: string;
  /** Every metrics export received, in order: each a flat list of its metrics. */
  readonly metricExports: OtlpMetric[][];
  readonly spans: OtlpSpan[];
  /** The content type of every request, in order. */
  readonly encodings: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const metricExports: OtlpMetric[][] = [];
  const spans: OtlpSpan[] = [];
  const encodings: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type']);
      const protobufBody = contentType.startsWith('application/x-protobuf');
      if (!protobufBody && !contentType.startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      encodings.push(contentType);
      const raw = Buffer.concat(chunks);
      const decode = (type: protobuf.Type) => (protobufBody ? fromProtobuf(type, raw) : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>));
      if (req.url === '/v1/metrics') {
        const resources = (decode(METRICS_REQUEST).resourceMetrics ?? []) as { scopeMetrics?: { metrics?: OtlpMetric[] }[] }[];
        metricExports.push(resources.flatMap((r) => (r.scopeMetrics ?? []).flatMap((s) => s.metrics ?? [])));
      } else if (req.url === '/v1/traces') {
        const resources = (decode(TRACES_REQUEST).resourceSpans ?? []) as { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
        for (const r of resources) {
          const service = attributeOf(r.resource ?? {}, 'service.name');
          for (const scope of r.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push(service === undefined ? span : { ...span, service });
        }
      }
      // An empty ExportServiceResponse, in the request's encoding.
      if (protobufBody) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    metricExports,
    spans,
    encodings,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The string value of a data point's attribute. */
export function attributeOf(point: { attributes?: { key: string; value: Record<string, unknown> }[] }, key: string): string | undefined {
  const value = point.attributes?.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : String(Object.values(value)[0]);
}

export const numberOf = (point: OtlpDataPoint): number => Number(point.asInt ?? point.asDouble ?? point.count ?? 0);
