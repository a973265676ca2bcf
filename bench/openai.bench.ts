/**
 * `npm run bench:openai [-- --samples N --max-new-tokens N --rounds N --prebuilt]`
 *
 * Samples/s (three chat annotations each, greedy) of the default teacher, SmolLM2-135M-
 * Instruct, on the same CREAK samples and prompts, in one run:
 * - the in-process engine (fp32 ONNX, 1 worker x 2 threads);
 * - one llama.cpp server (llama-cpp-python, or with `--prebuilt` llama.cpp's own
 *   `llama-server`; Q4_1 GGUF, 2 threads) as a `kind: openai` teacher;
 * - two llama.cpp servers (1 thread each) behind one `kind: openai` teacher.
 * Each is driven as the pipeline drives it: batches of 16, `concurrency` batches in flight.
 * Rounds alternate the three; the best of each is reported, with ratios to the engine, and
 * this process's CPU per sample (all its threads: for the engine, inference included; for
 * a server teacher, only the client's side, what sizes the consumers a server fleet needs).
 * Prints one JSON object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGenerators } from '../src/pipeline/generators.js';
import { bindTeachers, engineKeyOf } from '../src/pipeline/teacher-bindings.js';
import { parseTopology, type Topology } from '../src/pipeline/topology.js';
import type { GenerationRequest, RawSample, TextGenerator } from '../src/teacher/types.js';
import { LLAMA_SERVER_MODEL, startLlamaServer, type LlamaServer } from '../tools/llama-server/server.js';

const root = join(import.meta.dirname, '..');
const { values: v } = parseArgs({
  options: {
    samples: { type: 'string', default: '16' },
    'max-new-tokens': { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    model: { type: 'string', default: join(root, 'models', 'smollm2-135m-instruct') },
    prebuilt: { type: 'boolean', default: false },
  },
});
const nSamples = Number(v.samples);
const maxNewTokens = Number(v['max-new-tokens']);
const rounds = Math.max(1, Number(v.rounds));
if (!existsSync(join(v.model, 'onnx', 'model.onnx'))) {
  process.stderr.write(`no model at ${v.model}: run teacherlm model import smollm2\n`);
  process.exit(1);
}

const samples: RawSample[] = readFileSync(join(root, 'data', 'creak-demo.jsonl'), 'utf8').trim().split('\n').map((line, i) => {
  const row = JSON.parse(line) as { question: string; answer: string; task_name: string };
  return { id: `bench-${i}`, task: row.task_name, question: row.question, answer: row.answer };
});

function topology(teacher: Record<string, unknown>): Topology {
  return parseTopology({
    input: { topic: 'i' }, output: { topic: 'o' }, deadLetter: { topic: 'd' }, consumer: { group: 'g' },
    teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, promptStyle: 'chat', generation: { maxNewTokens, temperature: 0 }, ...teacher })),
    batching: { maxBatchSize: 16 },
    engine: { workers: 1, threads: 2, device: 'cpu' },
  });
}

/** Runs every prompt of the samples as the pipeline would: batches of 16, `concurrency` of them in flight. */
async function samplesPerSecond(t: Topology, generator: TextGenerator): Promise<{ samplesPerS: number; tokensPerS: number; cpuMsPerSample: number }> {
  const bindings = bindTeachers(t, new Map(t.teachers.map((teacher) => [engineKeyOf(teacher), generator])));
  const requests: GenerationRequest[] = Array.from({ length: nSamples }, (_, i) => samples[i % samples.length] as RawSample).flatMap((s) =>
    bindings.map((b) => ({ prompt: b.promptFor(s), options: b.teacher.generation })),
  );
  const batches: GenerationRequest[][] = [];
  for (let i = 0; i < requests.length; i += 16) batches.push(requests.slice(i, i + 16));
  let next = 0;
  let tokens = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: generator.concurrency }, async () => {
      while (next < batches.length) for (const r of await generator.generate(batches[next++] as GenerationRequest[])) tokens += r.generatedTokens;
    }),
  );
  const s = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { samplesPerS: nSamples / s, tokensPerS: tokens / s, cpuMsPerSample: (used.user + used.system) / 1000 / nSamples };
}

const servers: LlamaServer[] = [];
const generators: TextGenerator[] = [];
try {
  const prebuilt = v.prebuilt;
  servers.push(await startLlamaServer({ threads: 2, prebuilt }), await startLlamaServer({ threads: 1, prebuilt }), await startLlamaServer({ threads: 1, prebuilt }));
  const served = (urls: string[]) => topology({ kind: 'openai', model: LLAMA_SERVER_MODEL, baseUrls: urls, dialect: 'llama.cpp', concurrency: { initial: 4, min: 1, max: 8 } });
  const contenders: { name: string; topology: Topology }[] = [
    { name: 'engine', topology: topology({ model: v.model }) },
    { name: 'llamacpp_1_server', topology: served([servers[0]!.baseUrl]) },
    { name: 'llamacpp_2_servers', topology: served([servers[1]!.baseUrl, servers[2]!.baseUrl]) },
  ];
  const made = await Promise.all(contenders.map(async (c) => ({ ...c, generator: [...(await createGenerators(c.topology)).values()][0] as TextGenerator })));
  generators.push(...made.map((m) => m.generator));
  for (const m of made) await samplesPerSecond(m.topology, m.generator); // warm-up: sessions, connections, caches
  const best: Record<string, { samplesPerS: number; tokensPerS: number; cpuMsPerSample: number }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const m of made) {
      const got = await samplesPerSecond(m.topology, m.generator);
      if (!best[m.name] || got.samplesPerS > best[m.name]!.samplesPerS) best[m.name] = got;
    }
  }
  const engine = best.engine!.samplesPerS;
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      samples: nSamples, maxNewTokens, rounds, server: prebuilt ? 'llama-server (prebuilt)' : 'llama-cpp-python', cores: availableParallelism(), load1: round3(loadavg()[0] ?? 0),
      ...Object.fromEntries(Object.entries(best).map(([k, b]) => [k, { samplesPerS: round3(b.samplesPerS), tokensPerS: round3(b.tokensPerS), vsEngine: round3(b.samplesPerS / engine), cpuMsPerSample: round3(b.cpuMsPerSample) }])),
    })}\n`,
  );
} finally {
  await Promise.allSettled(generators.map((g) => g.close()));
  await Promise.allSettled(servers.map((s) => s.stop()));
}
