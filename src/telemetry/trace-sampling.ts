/**
 * The trace sampler, ours rather than the SDK's, so the pipeline can decide a record's
 * sampling once, before asking the SDK for anything, and a record not sampled costs a
 * header read (or, for a root, a random number) and nothing more.
 *
 * `OTEL_TRACES_SAMPLER` takes the six standard values (`always_on`, `always_off`,
 * `traceidratio`, `parentbased_always_on` (the default), `parentbased_always_off`,
 * `parentbased_traceidratio`) and `OTEL_TRACES_SAMPLER_ARG` the ratio (default 1).
 *
 * The ratio decision is a function of the trace id, as the OpenTelemetry TraceIdRatioBased
 * requirements ask (deterministic, and a trace kept at one ratio is kept at every higher
 * one): the id's rightmost 8 bytes, read as an unsigned integer, below round(ratio × 2^64).
 * That is the Python SDK's rule (and the Go and Java SDKs' up to rounding), so a service
 * of theirs running `traceidratio` at the same ratio keeps the same traces. The JS SDK's
 * own TraceIdRatioBasedSampler XORs the id's four 32-bit words instead and agrees with
 * none of them; {@link samplerFor} gives the SDK this one in its place.
 *
 * @example
 * const sampling = traceSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' });
 * sampling.keeps('0af7651916cd43dd8448eb211c80319c'); // false: 0x8448eb211c80319c is above 0.01 × 2^64
 * sampling.newRootTraceId(); // a trace id the ratio keeps, about once in a hundred calls; else undefined
 */
import { type Context, type Link, type SpanKind, type Attributes, trace } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { TeacherlmError } from '../errors.js';

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

const TWO_32 = 0x1_0000_0000;

export class TraceSampling {
  /** Whether a remote parent's sampled flag decides (the `parentbased_*` samplers). */
  readonly parentBased: boolean;
  /** Share of traces kept where the trace id decides (roots; every span without `parentbased_`). */
  readonly ratio: number;
  /** round(ratio × 2^64), as its high and low 32 bits. */
  private readonly boundHigh: number;
  private readonly boundLow: number;

  constructor(readonly name: TraceSamplerName, ratio = 1) {
    this.parentBased = name.startsWith('parentbased_');
    this.ratio = name.endsWith('always_on') ? 1 : name.endsWith('always_off') ? 0 : ratio;
    // ratio × 2^64 is exact in a double (a power-of-two scaling); rounded as Python's SDK rounds it.
    const bound = BigInt(Math.round(this.ratio * 2 ** 64));
    this.boundHigh = Number(bound >> 32n);
    this.boundLow = Number(bound & 0xffff_ffffn);
  }

  /** The ratio's decision on a trace id (32 lowercase hex digits). */
  keeps(traceId: string): boolean {
    return this.below(parseInt(traceId.slice(16, 24), 16), parseInt(traceId.slice(24, 32), 16));
  }

  /**
   * A new root's decision, drawn before any id exists: the id's rightmost 8 bytes are drawn
   * first, and only a kept root gets the rest of an id (which the ratio then keeps too).
   */
  newRootTraceId(): string | undefined {
    if (this.ratio === 0) return undefined;
    // The high half decides unless it equals the bound's: most roots cost one random number.
    const high = Math.floor(Math.random() * TWO_32);
    if (high > this.boundHigh) return undefined;
    const low = Math.floor(Math.random() * TWO_32);
    if (!this.below(high, low)) return undefined;
    return randomHex8() + randomHex8() + hex8(high) + hex8(low);
  }

  /** The decision under a remote parent: its sampled flag with `parentbased_`, else the ratio on its trace id. */
  follows(traceId: string, parentSampled: boolean): boolean {
    return this.parentBased ? parentSampled : this.keeps(traceId);
  }

  private below(high: number, low: number): boolean {
    return high < this.boundHigh || (high === this.boundHigh && low < this.boundLow);
  }
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const randomHex8 = (): string => hex8(Math.floor(Math.random() * TWO_32));

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, checked: a wrong value is refused, naming the variable. */
export function traceSamplingFromEnv(env: NodeJS.ProcessEnv = process.env): TraceSampling {
  const raw = env.OTEL_TRACES_SAMPLER?.trim();
  const name = (raw ? raw.toLowerCase() : 'parentbased_always_on') as TraceSamplerName;
  if (!(TRACE_SAMPLERS as readonly string[]).includes(name)) {
    throw new TeacherlmError('INVALID_OPTIONS', `OTEL_TRACES_SAMPLER: expected one of ${TRACE_SAMPLERS.join(', ')}, got '${env.OTEL_TRACES_SAMPLER}'`);
  }
  if (!name.endsWith('traceidratio')) return new TraceSampling(name);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new TeacherlmError('INVALID_OPTIONS', `OTEL_TRACES_SAMPLER_ARG: expected a ratio in [0, 1] for ${name}, got '${env.OTEL_TRACES_SAMPLER_ARG}'`);
  }
  return new TraceSampling(name, ratio);
}

/**
 * The SDK's sampler for `sampling`, deciding as {@link TraceSampling} does: every span the
 * SDK makes (the producer's, the consumers', the pipeline's) agrees with the pipeline's own
 * decision. A local parent's flag is followed, as ParentBased does by default.
 */
const SAMPLED: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };

export function samplerFor(sampling: TraceSampling): Sampler {
  const decide = (kept: boolean): SamplingResult => ({ decision: kept ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD });
  return {
    shouldSample(context: Context, traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes, _links: Link[]): SamplingResult {
      const parent = trace.getSpanContext(context);
      // A sampled span of this process (a traced sample's stage spans' parent): its children follow it, without validating ids the SDK made.
      if (parent !== undefined && parent.isRemote !== true && (parent.traceFlags & 1) === 1) return SAMPLED;
      if (!parent || !trace.isSpanContextValid(parent)) return decide(sampling.keeps(traceId));
      const sampled = (parent.traceFlags & 1) === 1;
      // A local parent (a span of this process) was decided already: its children follow it.
      return decide(parent.isRemote ? sampling.follows(traceId, sampled) : sampled);
    },
    toString: () => `TeacherlmSampler{${sampling.name}, ${sampling.ratio}}`,
  };
}
