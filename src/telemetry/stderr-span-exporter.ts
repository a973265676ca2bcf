/**
 * The `console` exporter: one JSON line per finished span on stderr. The SDK's own
 * ConsoleSpanExporter writes to stdout, which would corrupt `teacherlm tail`'s output.
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

type ExportCallback = Parameters<SpanExporter['export']>[1];
/** ExportResultCode.SUCCESS, without a direct dependency on @opentelemetry/core. */
const SUCCESS = 0;

export class StderrSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(line)) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    for (const span of spans) {
      const ctx = span.spanContext();
      this.write(
        `${JSON.stringify({
          span: span.name,
          traceId: ctx.traceId,
          spanId: ctx.spanId,
          parentSpanId: span.parentSpanContext?.spanId,
          durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
          attributes: span.attributes,
          ...(span.links.length > 0 ? { links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })) } : {}),
        })}\n`,
      );
    }
    done({ code: SUCCESS });
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
