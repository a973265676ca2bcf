/**
 * The telemetry benches' "on" configurations, as `--configs` (or `--telemetry-configs`)
 * names them: `metrics`, `tracing@R` or `both@R`, R the share of samples traced under
 * `parentbased_traceidratio`; with tracing, a `+sdk-encoder` suffix serializes the spans
 * with the SDK's own OTLP protobuf serializer instead of the project's encoder (the one
 * `teacherlm run` exports with), to compare the two in one run.
 *
 * @example
 * parseTelemetryConfigs('metrics,both@0.01'); // [{ label: 'metrics', metrics: true, tracing: false, ratio: 0 }, { label: 'both@0.01', ... }]
 */
export interface TelemetryConfig {
  label: string;
  metrics: boolean;
  tracing: boolean;
  /** The root sampler's ratio (0 when tracing is off). */
  ratio: number;
  /** Who writes the spans' OTLP protobuf: the project's encoder (src/telemetry/otlp-trace-encoder.ts) or the SDK's serializer. */
  encoder: 'ours' | 'sdk';
}

const SDK_ENCODER = '+sdk-encoder';

export function parseTelemetryConfig(text: string, defaultRatio = 1): TelemetryConfig {
  const trimmed = text.trim();
  const sdk = trimmed.endsWith(SDK_ENCODER);
  const [parts, ratioText] = (sdk ? trimmed.slice(0, -SDK_ENCODER.length) : trimmed).split('@') as [string, string | undefined];
  const ratio = ratioText === undefined ? defaultRatio : Number(ratioText);
  if (!['both', 'metrics', 'tracing'].includes(parts) || !(ratio >= 0 && ratio <= 1) || (parts === 'metrics' && (ratioText !== undefined || sdk))) {
    throw new Error(`expected metrics, tracing@R or both@R with R in [0, 1], optionally followed by ${SDK_ENCODER}, got '${text}'`);
  }
  if (parts === 'metrics') return { label: 'metrics', metrics: true, tracing: false, ratio: 0, encoder: 'ours' };
  return { label: `${parts}@${ratio}${sdk ? SDK_ENCODER : ''}`, metrics: parts === 'both', tracing: true, ratio, encoder: sdk ? 'sdk' : 'ours' };
}

export function parseTelemetryConfigs(text: string, defaultRatio = 1): TelemetryConfig[] {
  return text.split(',').map((c) => parseTelemetryConfig(c, defaultRatio));
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
