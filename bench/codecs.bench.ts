/**
 * `npm run bench:codecs [-- --records N --rounds N]`
 *
 * The wire formats' own cost, without Kafka: CPU per record of decoding a RawSample as
 * the pipeline does (`decodeRawSample`, validation included) and of encoding an
 * AugmentedSample, single-object Avro (`avro`) against the Confluent wire format
 * (`confluent`, its schema id cached as after the first record), in one run. Rounds
 * alternate the two; the least of each counts. Prints one JSON object with the ratios
 * confluent/avro (<= 1: confluent costs no more).
 */
import { parseArgs } from 'node:util';
import { recordCodecs } from '../src/records/codecs.js';
import { ConfluentCodec } from '../src/records/confluent-codec.js';
import { decodeRawSample } from '../src/records/decode-raw-sample.js';
import type { AugmentedSample, RawSample } from '../src/records/types.js';

const { values: v } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const n = Number(v.records);
const rounds = Math.max(1, Number(v.rounds));

const avro = recordCodecs();
const registry = { schemaById: async () => JSON.stringify(avro.rawSample.type.schema({ exportAttrs: true })) };
const confluentRaw = new ConfluentCodec<RawSample>(avro.rawSample.type, 1, registry);
const confluentAugmented = new ConfluentCodec<AugmentedSample>(avro.augmentedSample.type, 2, registry);

const raw: RawSample = { id: 'bench-1', task: 'CREAK', question: 'Marlboro used iconic imagery to promote its brand. (A) True (B) False', answer: '(A)', context: null, metadata: {} };
const annotation = (text: string) => ({ text, modelId: 'echo', promptTokens: 120, generatedTokens: 40, finishReason: 'eos', quality: null });
const augmented: AugmentedSample = {
  ...raw,
  context: null,
  metadata: {},
  fundamentals: annotation('Marlboro is a cigarette brand whose advertising used the Marlboro Man.'),
  chainOfThought: annotation('The Marlboro Man was an iconic image used in its advertising, so the answer is (A).'),
  commonMistakes: annotation('One might think tobacco brands never advertised with imagery.'),
  source: { topic: 'samples.raw', partition: 2, offset: 1041 },
  sourceTimestamp: 1,
  augmentedAt: 2,
};
const rawBytes = { avro: avro.rawSample.encode(raw), confluent: confluentRaw.encode(raw) };

const cases = {
  decode: {
    avro: () => decodeRawSample(rawBytes.avro, 'avro', avro.rawSample),
    confluent: () => decodeRawSample(rawBytes.confluent, 'confluent', avro.rawSample, confluentRaw),
  },
  encode: {
    avro: () => avro.augmentedSample.encode(augmented),
    confluent: () => confluentAugmented.encode(augmented),
  },
};

function cpuNsPerRecord(fn: () => unknown): number {
  for (let i = 0; i < 20_000; i++) fn(); // warm-up: JIT
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / n;
}

const least: Record<string, Record<string, number>> = { decode: {}, encode: {} };
for (let r = 0; r < rounds; r++) {
  for (const [op, formats] of Object.entries(cases)) {
    const order = r % 2 === 0 ? (['avro', 'confluent'] as const) : (['confluent', 'avro'] as const);
    for (const format of order) {
      const ns = cpuNsPerRecord(formats[format]);
      least[op]![format] = Math.min(least[op]![format] ?? Infinity, ns);
    }
  }
}
const round = (x: number) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify(
    {
      records: n,
      rounds,
      bytes: { avro: rawBytes.avro.length, confluent: rawBytes.confluent.length },
      ...Object.fromEntries(Object.entries(least).map(([op, f]) => [op, { avroNs: Math.round(f.avro!), confluentNs: Math.round(f.confluent!), ratioConfluentToAvro: round(f.confluent! / f.avro!) }])),
    },
    null,
    2,
  ),
);
