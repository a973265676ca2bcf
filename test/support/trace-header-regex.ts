/**
 * The trace-header reads as regexes over the decoded text, as src/telemetry/kafka-headers.ts
 * and src/pipeline/sample-tracing.ts did them before reading the bytes: the reference its
 * tests compare against, and the peer bench/trace-headers.bench.ts times.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** isValidTraceHeader's answer. */
export function regexTraceHeaderValid(name: 'traceparent' | 'tracestate', value: string | Buffer): boolean {
  if (value.length > (name === 'traceparent' ? 256 : 512)) return false;
  const text = typeof value === 'string' ? value : value.toString('utf8');
  if (name === 'tracestate') return /^[\x20-\x7e]*$/.test(text);
  const match = TRACEPARENT.exec(text);
  if (!match) return false;
  const [, version, traceId, parentId] = match;
  if (version === 'ff' || (version === '00' && match[5] !== undefined)) return false;
  return !/^0+$/.test(traceId!) && !/^0+$/.test(parentId!);
}

/** The sampling's old read of a plain version-00 header's flags (-1: not one); it took all-zero ids too. */
export function regexTraceparentFlags(value: string | Buffer): number {
  const match = TRACEPARENT_00.exec(typeof value === 'string' ? value : value.toString('latin1'));
  return match ? parseInt(match[3]!, 16) : -1;
}
