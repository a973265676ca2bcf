/**
 * Self time of a V8 CPU profile (the inspector's `Profiler.stop`), summed by where each
 * function's code lives, so a telemetry run shows telemetry's own CPU apart from the
 * pipeline's:
 * - `sdk`: the OpenTelemetry API, SDK and exporter packages, and protobufjs (the OTLP
 *   serializer's writer);
 * - `project`: the project's telemetry code, src/telemetry/, and its tracing hooks
 *   elsewhere in src/ (src/pipeline/sample-tracing.ts);
 * - `idle`: the profiler's `(idle)` (waiting on I/O), not CPU;
 * - `gc`: the main thread's `(garbage collector)`: garbage telemetry makes is collected
 *   there too, so it is shown apart and not counted as telemetry's;
 * - `other`: everything else, the runtime's `(program)` included.
 * A native or Node built-in function (no url, or a `node:` one: `performance.now`, a
 * Buffer copy) is charged to its caller's bucket: telemetry's calls of them are its cost.
 */
export interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber?: number; columnNumber?: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export type Bucket = 'sdk' | 'project' | 'idle' | 'gc' | 'other';

const SDK = /\/node_modules\/(@opentelemetry|protobufjs|@protobufjs)\//;
const PROJECT = /\/src\/(telemetry\/|pipeline\/sample-tracing\.)/;

const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/** Whether the function has no bucket of its own (a native or Node built-in one), so its caller's is used. */
export function inheritsBucket(callFrame: ProfileNode['callFrame']): boolean {
  return callFrame.url === '' ? !SPECIAL.has(callFrame.functionName) : callFrame.url.startsWith('node:');
}

export function bucketOf(callFrame: ProfileNode['callFrame']): Bucket {
  if (callFrame.url === '' && callFrame.functionName === '(idle)') return 'idle';
  if (callFrame.url === '' && callFrame.functionName === '(garbage collector)') return 'gc';
  const url = callFrame.url.replaceAll('\\', '/');
  if (SDK.test(url)) return 'sdk';
  if (PROJECT.test(url) && !url.includes('/node_modules/')) return 'project';
  return 'other';
}

/**
 * µs of self time per bucket: every sample counts the same, the profile's mean interval.
 * Charging each sample its own delta instead would charge a pause of the thread (the
 * machine's other load descheduling it: the pending samples arrive as one) to whatever
 * ran when it came back.
 */
export function selfTimeByBucket(profile: CpuProfile): Record<Bucket, number> {
  const totals: Record<Bucket, number> = { sdk: 0, project: 0, idle: 0, gc: 0, other: 0 };
  const bucketById = bucketsByNode(profile.nodes);
  const samples = profile.samples ?? [];
  const interval = samples.length > 0 ? (profile.endTime - profile.startTime) / samples.length : 0;
  for (const id of samples) totals[bucketById.get(id) ?? 'other'] += interval;
  return totals;
}

/** Each node's bucket, a native or built-in one's from its nearest caller that has one of its own. */
export function bucketsByNode(nodes: readonly ProfileNode[]): Map<number, Bucket> {
  const buckets = new Map<number, Bucket>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const visit = (node: ProfileNode, callers: Bucket): void => {
    const bucket = inheritsBucket(node.callFrame) ? callers : bucketOf(node.callFrame);
    buckets.set(node.id, bucket);
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c) visit(c, bucket);
    }
  };
  const children = new Set(nodes.flatMap((n) => n.children ?? []));
  for (const node of nodes) if (!children.has(node.id)) visit(node, 'other');
  return buckets;
}
