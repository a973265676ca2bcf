import { describe, expect, it } from 'vitest';
import { median, parseTelemetryConfig, parseTelemetryConfigs } from '../../bench/telemetry-configs.js';

describe("the telemetry benches' configurations", () => {
  it('reads metrics, tracing@R and both@R', () => {
    expect(parseTelemetryConfigs('metrics, both@0.01,tracing@1')).toEqual([
      { label: 'metrics', metrics: true, tracing: false, ratio: 0, encoder: 'ours' },
      { label: 'both@0.01', metrics: true, tracing: true, ratio: 0.01, encoder: 'ours' },
      { label: 'tracing@1', metrics: false, tracing: true, ratio: 1, encoder: 'ours' },
    ]);
    expect(parseTelemetryConfig('both@0.01+sdk-encoder')).toEqual({ label: 'both@0.01+sdk-encoder', metrics: true, tracing: true, ratio: 0.01, encoder: 'sdk' });
    expect(parseTelemetryConfig('both', 0.5).label).toBe('both@0.5');
  });

  it('refuses anything else, naming it', () => {
    for (const bad of ['metrics@0.1', 'both@2', 'all@0.1', 'tracing@x', 'metrics+sdk-encoder', 'both@0.01+sdk']) expect(() => parseTelemetryConfig(bad)).toThrow(`'${bad}'`);
  });

  it('takes the median of an odd or even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
