import { describe, expect, it } from 'vitest';
import { median, parseTelemetryConfig, parseTelemetryConfigs } from '../../bench/telemetry-configs.js';

describe("the telemetry benches' configurations", () => {
  it('reads metrics, tracing@R and both@R', () => {
    expect(parseTelemetryConfigs('metrics, both@0.01,tracing@1')).toEqual([
      { label: 'metrics', metrics: true, tracing: false, ratio: 0 },
      { label: 'both@0.01', metrics: true, tracing: true, ratio: 0.01 },
      { label: 'tracing@1', metrics: false, tracing: true, ratio: 1 },
    ]);
    expect(parseTelemetryConfig('both', 0.5).label).toBe('both@0.5');
  });

  it('refuses anything else, naming it', () => {
    for (const bad of ['metrics@0.1', 'both@2', 'all@0.1', 'tracing@x']) expect(() => parseTelemetryConfig(bad)).toThrow(`'${bad}'`);
  });

  it('takes the median of an odd or even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
