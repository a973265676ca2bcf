/**
 * An OTLP/HTTP receiver for tests: an HTTP server that accepts `/v1/traces` and
 * `/v1/metrics` export requests and decodes them. The exporters the project uses
 * (`@opentelemetry/exporter-*-otlp-http`) send OTLP's JSON encoding, so this decodes JSON
 * (a protobuf body is refused with 415, so a change of encoding fails loudly).
 */
import { type Server, createServer } from 'node:http';

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
  parentSpanId?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

export interface OtlpReceiver {
  readonly url: string;
  /** Every metrics export received, in order: each a flat list of its metrics. */
  readonly metricExports: OtlpMetric[][];
  readonly spans: OtlpSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const metricExports: OtlpMetric[][] = [];
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (req.url === '/v1/metrics') {
        const resources = (body.resourceMetrics ?? []) as { scopeMetrics?: { metrics?: OtlpMetric[] }[] }[];
        metricExports.push(resources.flatMap((r) => (r.scopeMetrics ?? []).flatMap((s) => s.metrics ?? [])));
      } else if (req.url === '/v1/traces') {
        const resources = (body.resourceSpans ?? []) as { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
        spans.push(...resources.flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    metricExports,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The string value of a data point's attribute. */
export function attributeOf(point: { attributes?: { key: string; value: Record<string, unknown> }[] }, key: string): string | undefined {
  const value = point.attributes?.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : String(Object.values(value)[0]);
}

export const numberOf = (point: OtlpDataPoint): number => Number(point.asInt ?? point.asDouble ?? point.count ?? 0);
