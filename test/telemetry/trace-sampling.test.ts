import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { TraceSampling, samplerFor, traceSamplingFromEnv } from '../../src/telemetry/trace-sampling.js';
import { pythonKeeps } from '../support/python-trace-ratio.js';

/** Deterministic ids spread over the whole range (a linear congruential walk). */
function ids(n: number): string[] {
  let x = 0x2545f4914f6cdd1dn;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn;
    const y = (x * 0x9e3779b97f4a7c15n) & 0xffff_ffff_ffff_ffffn;
    out.push(y.toString(16).padStart(16, '0') + x.toString(16).padStart(16, '0'));
  }
  return out;
}

describe('TraceSampling', () => {
  it("decides on the trace id's rightmost 8 bytes as the Python SDK does, at every ratio", () => {
    const sample = ids(2_000);
    // Boundary ids: just below and at the bound.
    const bound = BigInt(Math.round(0.25 * 2 ** 64));
    sample.push(`0123456789abcdef${(bound - 1n).toString(16).padStart(16, '0')}`, `0123456789abcdef${bound.toString(16).padStart(16, '0')}`);
    for (const ratio of [0, 1e-9, 0.01, 0.25, 0.5, 0.999, 1]) {
      const sampling = new TraceSampling('traceidratio', ratio);
      for (const id of sample) expect(sampling.keeps(id), `${id} at ${ratio}`).toBe(pythonKeeps(id, ratio));
    }
    expect(new TraceSampling('traceidratio', 0.25).keeps(sample.at(-2)!)).toBe(true);
    expect(new TraceSampling('traceidratio', 0.25).keeps(sample.at(-1)!)).toBe(false);
  });

  it('keeps at a higher ratio every trace it keeps at a lower one', () => {
    const ratios = [0.001, 0.01, 0.1, 0.5, 0.9];
    for (const id of ids(2_000)) {
      const kept = ratios.map((r) => new TraceSampling('traceidratio', r).keeps(id));
      expect(kept.indexOf(true) === -1 || kept.slice(kept.indexOf(true)).every(Boolean)).toBe(true);
    }
  });

  it('draws roots at the ratio, each with an id the ratio keeps', () => {
    const sampling = new TraceSampling('parentbased_traceidratio', 0.05);
    let kept = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = sampling.newRootTraceId();
      if (id === undefined) continue;
      kept++;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(pythonKeeps(id, 0.05)).toBe(true);
    }
    // 1,000 expected; 6 standard deviations (about 31 each) either way.
    expect(kept).toBeGreaterThan(1_000 - 190);
    expect(kept).toBeLessThan(1_000 + 190);
    expect(new TraceSampling('parentbased_always_off').newRootTraceId()).toBeUndefined();
    expect(new TraceSampling('always_on').newRootTraceId()).toMatch(/^[0-9a-f]{32}$/);
  });

  it("follows a remote parent's flag when parent-based, and the ratio on its id otherwise", () => {
    const [id] = ids(1);
    const parentBased = new TraceSampling('parentbased_traceidratio', 0);
    expect(parentBased.follows(id!, true)).toBe(true);
    expect(parentBased.follows(id!, false)).toBe(false);
    expect(new TraceSampling('traceidratio', 0).follows(id!, true)).toBe(false);
    expect(new TraceSampling('traceidratio', 1).follows(id!, false)).toBe(true);
  });

  it('reads the standard variables, refusing a wrong value by name', () => {
    expect(traceSamplingFromEnv({})).toMatchObject({ name: 'parentbased_always_on', parentBased: true, ratio: 1 });
    expect(traceSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' })).toMatchObject({ parentBased: false, ratio: 0.01 });
    expect(traceSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }).ratio).toBe(1);
    expect(traceSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: 'ignored' }).ratio).toBe(0);
    const refused = (env: NodeJS.ProcessEnv, variable: string) => {
      let error: unknown;
      try {
        traceSamplingFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(isTeacherlmError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toContain(variable);
    };
    refused({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER');
    refused({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG');
    refused({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG');
  });
});

describe('samplerFor', () => {
  const decide = (sampling: TraceSampling, traceId: string, parent?: { sampled: boolean; remote: boolean }) => {
    const context = parent
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: parent.sampled ? 1 : 0, isRemote: parent.remote })
      : ROOT_CONTEXT;
    return samplerFor(sampling).shouldSample(context, traceId, 'span', SpanKind.INTERNAL, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
  };

  it('gives the SDK the same decisions as the pipeline makes', () => {
    const sampling = new TraceSampling('parentbased_traceidratio', 0.3);
    for (const id of ids(500)) {
      expect(decide(sampling, id)).toBe(sampling.keeps(id));
      expect(decide(sampling, id, { sampled: true, remote: true })).toBe(true);
      expect(decide(sampling, id, { sampled: false, remote: true })).toBe(false);
    }
    const ratioOnly = new TraceSampling('traceidratio', 0.3);
    for (const id of ids(500)) {
      expect(decide(ratioOnly, id, { sampled: false, remote: true })).toBe(ratioOnly.keeps(id));
      // A span of this process was decided already: its children follow it.
      expect(decide(ratioOnly, id, { sampled: true, remote: false })).toBe(true);
    }
  });
});
