/**
 * bench:engine's TeacherLM-shaped stream: CREAK dev samples arriving over time, each as the
 * default topology's three annotation prompts (chat style, its instructions and decoding
 * controls: greedy, up to 128 new tokens, outputs ending at EOS at varied lengths). The
 * same stream goes through the pipeline's batcher (src/pipeline/batch.ts) twice, once on a
 * static engine (closed batches: a worker runs one batch to its end) and once on a
 * continuous one (prompts join running batches and leave as they finish), and the two
 * runs' outputs are compared prompt by prompt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject, finalize, from, lastValueFrom, merge, mergeMap, toArray } from 'rxjs';
import { createEngine } from '../src/teacher/create-engine.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../src/teacher/types.js';
import { batch } from '../src/pipeline/batch.js';
import { WorkerSlots } from '../src/pipeline/worker-slots.js';
import { loadTopology } from '../src/pipeline/topology.js';
import { buildPrompt } from '../src/teacher/prompts.js';
import { createChatTemplate } from '../src/teacher/chat-template.js';
import { loadTokenizerConfig } from '../src/teacher/model-files.js';
import type { ModelDtype } from '../src/teacher/model-files.js';
import type { Batching } from '../src/teacher/batching.js';
import { autoMaxBatchSize } from '../src/teacher/batch-size.js';
import { CREAK_DEV } from '../test/support/creak.js';

export interface StreamOptions {
  modelDir: string;
  dtype: ModelDtype;
  samples: number;
  /** Samples arriving per second (each brings three prompts). */
  rate: number;
  /** A number, or auto: what the engine's auto is for each batching mode (batch-size.ts). */
  maxBatchSize: number | 'auto';
  workers: number;
  threads: number;
  /** Static-continuous pairs, interleaved so a change in the machine's load hits both alike. */
  rounds: number;
  log: (message: string) => void;
}

interface StreamRun {
  batching: Batching;
  seconds: number;
  samplesPerSec: number;
  generatedTokens: number;
  tokensPerSec: number;
  /** Mean new tokens per prompt, and the spread of lengths (EOS ends most). */
  outputTokens: { mean: number; min: number; max: number; endedAtEos: number };
  texts: string[];
}

type Request = GenerationRequest;

/** The stream's requests, three per sample, in arrival order. */
export function streamRequests(modelDir: string, samples: number, root: string): Request[] {
  const topology = loadTopology(join(root, 'topologies', 'default.yaml'), root);
  const template = createChatTemplate(loadTokenizerConfig(modelDir));
  const lines = readFileSync(CREAK_DEV, 'utf8').trimEnd().split('\n');
  const out: Request[] = [];
  for (let i = 0; i < samples; i++) {
    const sample = JSON.parse(lines[(100 + i) % lines.length]!) as { question: string; answer: string };
    for (const teacher of topology.teachers) {
      out.push({ prompt: buildPrompt(sample, teacher.annotation, teacher.promptStyle, template, teacher.instructions), options: teacher.generation });
    }
  }
  return out;
}

/** Feeds the requests in at `rate` samples/s through `batch` into `engine`, as the pipeline does; resolves with results in request order. */
async function feed(engine: TextGenerator, requests: Request[], opts: StreamOptions, maxBatchSize: number): Promise<GenerationResult[]> {
  const rows = engine.continuousRows;
  const slots = new WorkerSlots(rows ?? engine.concurrency);
  const perTask = rows !== undefined;
  const input = new Subject<number>();
  const results = new Array<GenerationResult>(requests.length);
  const call = (ids: number[]) => engine.generate(ids.map((i) => requests[i]!)).then((r) => r.forEach((x, k) => (results[ids[k]!] = x)));
  const done = lastValueFrom(
    input.pipe(
      batch({ maxBatchSize, maxBatchTokens: 1e9, maxWaitMs: 50, tokensOf: (i) => engine.countTokens(requests[i]!.prompt), slots, perTask }),
      mergeMap((ids) =>
        perTask
          ? merge(...ids.map((i) => from(call([i])).pipe(finalize(() => slots.release()))))
          : from(call(ids)).pipe(finalize(() => slots.release())),
      ),
      toArray(),
    ),
  );
  const perSample = requests.length / opts.samples;
  for (let s = 0; s < opts.samples; s++) {
    setTimeout(
      () => {
        for (let k = 0; k < perSample; k++) input.next(s * perSample + k);
        if (s === opts.samples - 1) input.complete();
      },
      (1000 * s) / opts.rate,
    );
  }
  await done;
  return results;
}

async function runStream(batching: Batching, requests: Request[], opts: StreamOptions): Promise<StreamRun> {
  const maxBatchSize = opts.maxBatchSize === 'auto' ? autoMaxBatchSize(batching) : opts.maxBatchSize;
  const engine = await createEngine({ modelDir: opts.modelDir, dtype: opts.dtype, workers: opts.workers, intraOpThreads: opts.threads, device: 'cpu', batching, maxBatchSize });
  try {
    await engine.generate(requests.slice(0, 2).map((r) => ({ ...r, options: { ...r.options, maxNewTokens: 2 } })));
    const started = performance.now();
    const results = await feed(engine, requests, opts, maxBatchSize);
    const seconds = (performance.now() - started) / 1000;
    const lengths = results.map((r) => r.generatedTokens);
    const generatedTokens = lengths.reduce((a, b) => a + b, 0);
    opts.log(`stream ${batching}: ${round(opts.samples / seconds, 4)} samples/s, ${round(generatedTokens / seconds)} tokens/s`);
    return {
      batching,
      seconds: round(seconds),
      samplesPerSec: round(opts.samples / seconds, 4),
      generatedTokens,
      tokensPerSec: round(generatedTokens / seconds),
      outputTokens: {
        mean: round(generatedTokens / lengths.length),
        min: Math.min(...lengths),
        max: Math.max(...lengths),
        endedAtEos: results.filter((r) => r.finishReason === 'eos').length,
      },
      texts: results.map((r) => `${r.generatedTokens}:${r.text}`),
    };
  } finally {
    await engine.close();
  }
}

/** Static, then continuous, on the same stream, `rounds` times; the ratio of the totals and whether every output matched. */
export async function benchStream(opts: StreamOptions, root: string) {
  const requests = streamRequests(opts.modelDir, opts.samples, root);
  const pairs: { static: StreamRun; continuous: StreamRun }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const staticRun = await runStream('static', requests, opts);
    const continuousRun = await runStream('continuous', requests, opts);
    pairs.push({ static: staticRun, continuous: continuousRun });
  }
  const reference = pairs[0]!.static.texts;
  const differing = new Set<number>();
  for (const pair of pairs) for (const run of [pair.static, pair.continuous]) run.texts.forEach((t, i) => t !== reference[i] && differing.add(i));
  const seconds = (kind: 'static' | 'continuous') => pairs.reduce((n, p) => n + p[kind].seconds, 0);
  const strip = ({ texts: _t, ...rest }: StreamRun) => rest;
  return {
    samples: opts.samples,
    prompts: requests.length,
    arrivalSamplesPerSec: opts.rate,
    maxBatchSize: opts.maxBatchSize === 'auto' ? { static: autoMaxBatchSize('static'), continuous: autoMaxBatchSize('continuous') } : opts.maxBatchSize,
    layout: `${opts.workers}x${opts.threads}`,
    rounds: pairs.map((p) => ({ static: strip(p.static), continuous: strip(p.continuous), ratio: round(p.static.seconds / p.continuous.seconds) })),
    /** Over all rounds: samples/s continuous over static. */
    ratioContinuousOverStatic: round(seconds('static') / seconds('continuous')),
    /** The median of the rounds' own ratios (the lower middle of an even count): one round slowed by the machine's load moves it less than the totals. */
    medianRoundRatio: round(pairs.map((p) => p.static.seconds / p.continuous.seconds).sort((a, b) => a - b)[Math.floor((pairs.length - 1) / 2)]!),
    /** Same text and token count for every prompt (greedy), in every run. */
    sameOutputs: differing.size === 0,
    differingPrompts: [...differing],
  };
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
