/**
 * The reference the trace-sampling tests compare with: the Python SDK's TraceIdRatioBased
 * rule, written with BigInt (the trace id's rightmost 8 bytes below round(ratio × 2^64)).
 */
export const pythonKeeps = (traceId: string, ratio: number): boolean => BigInt(`0x${traceId.slice(16)}`) < BigInt(Math.round(ratio * 2 ** 64));
