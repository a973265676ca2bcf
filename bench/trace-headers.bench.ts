/**
 * `npx tsx bench/trace-headers.bench.ts [--calls N] [--rounds N]`: the two reads of an
 * input record's `traceparent` (src/telemetry/kafka-headers.ts): the check every output
 * record makes before copying it on (`valid`: isValidTraceHeader), and the tracing
 * pipeline's read of its flags (`flags`: plainTraceparentFlags), each against the regex
 * over the decoded text it replaced, on what a Kafka consumer delivers (Buffers) and on
 * strings, rounds interleaved; prints the medians of ns per call and their ratios.
 */
import { parseArgs } from 'node:util';
import { isValidTraceHeader, plainTraceparentFlags } from '../src/telemetry/kafka-headers.js';
import { median } from './telemetry-configs.js';
import { regexTraceHeaderValid, regexTraceparentFlags } from '../test/support/trace-header-regex.js';

const { values: v } = parseArgs({ options: { calls: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '9' } } });
const calls = Number(v.calls);
const rounds = Number(v.rounds);
if (!Number.isInteger(calls) || calls < 1) throw new Error(`--calls: expected a positive integer, got '${v.calls}'`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a positive integer, got '${v.rounds}'`);

const hex = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((seed * 31 + i * 7) % 16).toString(16)).join('');
const strings = Array.from({ length: 1024 }, (_, i) => `00-${hex(32, i)}-${hex(16, i + 1)}-0${i % 2}`);
const buffers = strings.map((s) => Buffer.from(s));
const checks: Record<string, (x: string | Buffer) => boolean> = {
  'valid/ours': (x) => isValidTraceHeader('traceparent', x),
  'valid/regex': (x) => regexTraceHeaderValid('traceparent', x),
  'flags/ours': (x) => plainTraceparentFlags(x) >= 0,
  'flags/regex': (x) => regexTraceparentFlags(x) >= 0,
};
const inputs = { buffer: buffers, string: strings };

const times: Record<string, number[]> = {};
let accepted = 0;
for (let r = 0; r < rounds + 1; r++) {
  for (const [kind, values] of Object.entries(inputs)) {
    for (const [name, check] of r % 2 === 0 ? Object.entries(checks) : Object.entries(checks).reverse()) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) if (check(values[i & 1023]!)) accepted++;
      const ns = Number(process.hrtime.bigint() - t0) / calls;
      // The first round warms both up and is not counted.
      if (r > 0) (times[`${name}/${kind}`] ??= []).push(ns);
    }
  }
}
const nsPerCall = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, Math.round(median(t) * 10) / 10]));
console.log(
  JSON.stringify(
    {
      calls,
      rounds,
      allAccepted: accepted === (rounds + 1) * 8 * calls,
      nsPerCall,
      regexOverOurs: Object.fromEntries(
        ['valid', 'flags'].flatMap((read) => ['buffer', 'string'].map((kind) => [`${read}/${kind}`, Math.round((nsPerCall[`${read}/regex/${kind}`]! / nsPerCall[`${read}/ours/${kind}`]!) * 100) / 100])),
      ),
    },
    null,
    2,
  ),
);
