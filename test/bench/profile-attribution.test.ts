import { describe, expect, it } from 'vitest';
import { bucketOf, bucketsByNode, selfTimeByBucket, type CpuProfile } from '../../bench/profile-attribution.js';

const frame = (url: string, functionName = 'f') => ({ functionName, url });

describe("a CPU profile's self time by bucket", () => {
  it('puts the OpenTelemetry packages and protobufjs in sdk, the project telemetry in project', () => {
    expect(bucketOf(frame('file:///app/node_modules/@opentelemetry/sdk-trace-base/build/src/Span.js'))).toBe('sdk');
    expect(bucketOf(frame('file:///app/node_modules/protobufjs/src/writer.js'))).toBe('sdk');
    expect(bucketOf(frame('file:///app/src/telemetry/pipeline-metrics.ts'))).toBe('project');
    expect(bucketOf(frame('file:///app/src/pipeline/sample-tracing.ts'))).toBe('project');
    expect(bucketOf(frame('C:\\app\\src\\telemetry\\spans.ts'))).toBe('project');
  });

  it('leaves the pipeline, other packages and the runtime in other, GC and idle apart', () => {
    expect(bucketOf(frame('file:///app/src/pipeline/pipeline.ts'))).toBe('other');
    expect(bucketOf(frame('file:///app/node_modules/kafkajs/src/consumer/index.js'))).toBe('other');
    expect(bucketOf(frame('file:///app/node_modules/some-lib/src/telemetry/x.js'))).toBe('other');
    expect(bucketOf(frame('', '(garbage collector)'))).toBe('gc');
    expect(bucketOf(frame('', '(program)'))).toBe('other');
    expect(bucketOf(frame('', '(idle)'))).toBe('idle');
  });

  it('charges every sample the mean interval, whatever its own delta', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('', '(root)') },
        { id: 2, callFrame: frame('file:///app/node_modules/@opentelemetry/core/x.js') },
        { id: 3, callFrame: frame('file:///app/src/telemetry/spans.ts') },
        { id: 4, callFrame: frame('', '(idle)') },
      ],
      startTime: 0,
      endTime: 400,
      samples: [2, 3, 4, 2],
      timeDeltas: [5, 100, 200, 50],
    };
    // 4 samples over 400 µs: 100 each, however long the gaps between them.
    expect(selfTimeByBucket(profile)).toEqual({ sdk: 200, project: 100, idle: 100, gc: 0, other: 0 });
  });

  it('gives zeros for a profile without samples', () => {
    expect(selfTimeByBucket({ nodes: [], startTime: 0, endTime: 0 })).toEqual({ sdk: 0, project: 0, idle: 0, gc: 0, other: 0 });
  });

  it("charges a native or built-in function to its caller's bucket", () => {
    const nodes = [
      { id: 1, callFrame: frame('', '(root)'), children: [2, 5, 7] },
      { id: 2, callFrame: frame('file:///app/src/telemetry/pipeline-metrics.ts'), children: [3] },
      { id: 3, callFrame: frame('', 'now'), children: [4] },
      { id: 4, callFrame: frame('node:internal/perf/utils') },
      { id: 5, callFrame: frame('file:///app/node_modules/kafkajs/src/x.js'), children: [6] },
      { id: 6, callFrame: frame('node:buffer', 'copy') },
      { id: 7, callFrame: frame('', '(garbage collector)') },
    ];
    expect(Object.fromEntries(bucketsByNode(nodes))).toEqual({ 1: 'other', 2: 'project', 3: 'project', 4: 'project', 5: 'other', 6: 'other', 7: 'gc' });
  });
});
