/**
 * The quality gate's table (README, "Quality gate"): on CREAK dev samples, yesterday's
 * defaults (the reference chat prompt, 64 new tokens, no decoding controls, no gate) against
 * a topology's teachers (default: topologies/default.yaml, with its instructions and decoding
 * controls), checked by the gate, and regenerated as the gate does (`--attempts`, sampled at
 * `quality.regenerateTemperature`, seed + attempt). The configurations are interleaved chunk by
 * chunk in one process on one engine, their order alternating, so their samples/s compare on a
 * shared machine.
 *
 * Every generation goes to `--log` (JSON lines), so the table can be scored again with other
 * checks without generating (`--rescore LOG`, with `--relax truncated,restates-question` to turn
 * checks off). The rescore replays the gate on the logged attempts; with relaxed checks it is
 * exact, since an annotation failing the relaxed checks also failed the strict ones, so the
 * measured run made every attempt the relaxed gate would have made.
 *
 *   npx tsx tools/quality/gate-table.ts [--from 430] [--count 200] [--chunk 32] [--attempts 3]
 *     [--topology topologies/default.yaml] [--log .cache/quality/gate-table.jsonl] [--skip-old]
 *   npx tsx tools/quality/gate-table.ts --rescore .cache/quality/gate-table.jsonl [--relax truncated] [--trim]
 *     [--budget fundamentals=64,cot=96] [--faithfulness]
 *
 * `--trim` rescores with the gate's `trimTruncated` repair. `--budget` rescores the new
 * topology's generations as if their kind had had fewer new tokens: each text is cut to its
 * first N tokens (the teacher's tokenizer) and marked `length`. Decoding picks each token
 * from the tokens before it alone, so a run with the smaller limit would have generated
 * exactly that prefix (greedy, and sampled with the same seed); with regenerations the
 * rescore can only undercount them, since a text that fails only at the smaller limit was
 * not regenerated in the logged run. `--faithfulness` also scores the kept chains of thought
 * that pass the text checks with the teacher's own faithfulness check (the gate's optional
 * `checks.faithfulness`), as a second opinion on "0% contradicting among passing".
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { failedChecks, QUALITY_CHECKS, type QualityCheckName, type QualityChecks } from '../../src/quality/checks.js';
import { judge } from '../../src/quality/gate.js';
import { generationForSample } from '../../src/quality/invented-options.js';
import { checkFaithfulness } from '../../src/quality/faithfulness.js';
import { createContinuationScorer } from '../../src/teacher/continuation-scorer.js';
import { DEFAULT_QUALITY, type QualitySpec } from '../../src/quality/quality-options.js';
import { wordsOf } from '../../src/quality/words.js';
import { loadTopology } from '../../src/pipeline/topology.js';
import { parseFieldMap } from '../../src/records/field-map.js';
import { mapToSample } from '../../src/records/map-sample.js';
import { buildPrompt, createEngine, extractAnnotation, type AnnotationKind, type GenerationOptions, type RawSample } from '../../src/index.js';
import { createChatTemplate } from '../../src/teacher/chat-template.js';
import { loadTokenizerConfig, loadTokenizerFiles } from '../../src/teacher/model-files.js';
import { ModelTokenizer } from '../../src/teacher/tokenizer.js';
import { ANNOTATION_KINDS } from '../../src/teacher/types.js';

/** One logged generation. */
export interface LoggedGeneration {
  config: 'old' | 'new';
  id: string;
  kind: AnnotationKind;
  attempt: number;
  text: string;
  finishReason: string;
  question: string;
  answer: string;
}

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: '430' },
    count: { type: 'string', default: '200' },
    chunk: { type: 'string', default: '32' },
    attempts: { type: 'string', default: '3' },
    topology: { type: 'string', default: join(PROJECT_ROOT, 'topologies', 'default.yaml') },
    log: { type: 'string', default: join(PROJECT_ROOT, '.cache', 'quality', 'gate-table.jsonl') },
    rescore: { type: 'string' },
    'skip-old': { type: 'boolean' },
    relax: { type: 'string' },
    trim: { type: 'boolean' },
    budget: { type: 'string' },
    faithfulness: { type: 'boolean' },
  },
});

const relaxed = new Set((values.relax?.split(',').filter(Boolean) ?? []) as QualityCheckName[]);
for (const name of relaxed) if (!(QUALITY_CHECKS as readonly string[]).includes(name)) throw new Error(`--relax: unknown check '${name}' (one of ${QUALITY_CHECKS.join(', ')})`);

function checksFor(base: QualityChecks): QualityChecks {
  const c: QualityChecks = { ...base };
  if (relaxed.has('too-short')) delete c.minWords;
  if (relaxed.has('repetition')) {
    delete c.repeatWords;
    delete c.maxRepeatedNgramShare;
  }
  if (relaxed.has('truncated')) delete c.truncated;
  if (relaxed.has('restates-question')) delete c.minNovelWords;
  if (relaxed.has('contradiction')) delete c.contradiction;
  return c;
}

const share = (n: number, d: number) => (d === 0 ? null : +(n / d).toFixed(3));

interface Judged extends LoggedGeneration {
  failed: QualityCheckName[];
  trimmed: boolean;
}

/** The gate's choice among one annotation's attempts: the first passing, else the fewest failures (earliest on a tie). */
function gateChoice(attempts: Judged[], maxAttempts: number): { kept: Judged; made: number } {
  let best = attempts[0]!;
  let made = 1;
  while (best.failed.length > 0 && made < maxAttempts && made < attempts.length) {
    const next = attempts[made]!;
    made++;
    if (next.failed.length === 0 || next.failed.length < best.failed.length) best = next;
  }
  return { kept: best, made };
}

/** The table's row for one configuration: `maxAttempts` 1 is the gate without regenerations. */
/** The attempt the gate keeps of each annotation, and the generations it made. */
function keptOf(generations: Judged[], maxAttempts: number): { kept: Judged[]; made: number } {
  const byAnnotation = new Map<string, Judged[]>();
  for (const g of generations) {
    const key = `${g.id}\u0000${g.kind}`;
    byAnnotation.set(key, [...(byAnnotation.get(key) ?? []), g]);
  }
  const kept: Judged[] = [];
  let made = 0;
  for (const attempts of byAnnotation.values()) {
    attempts.sort((a, b) => a.attempt - b.attempt);
    const choice = gateChoice(attempts, maxAttempts);
    kept.push(choice.kept);
    made += choice.made;
  }
  return { kept, made };
}

function row(name: string, generations: Judged[], maxAttempts: number, seconds: number | undefined, samples: number) {
  const { kept, made } = keptOf(generations, maxAttempts);
  const passing = kept.filter((j) => j.failed.length === 0);
  const cots = kept.filter((j) => j.kind === 'cot');
  const passingCots = passing.filter((j) => j.kind === 'cot');
  const passingFundamentals = passing.filter((j) => j.kind === 'fundamentals');
  const bySample = new Map<string, number>();
  for (const j of passing) bySample.set(j.id, (bySample.get(j.id) ?? 0) + 1);
  const failures: Record<string, number> = {};
  for (const j of kept) for (const f of j.failed) failures[f] = (failures[f] ?? 0) + 1;
  const byKind: Record<string, { passing: number | null; failures: Record<string, number> }> = {};
  for (const kind of ANNOTATION_KINDS) {
    const ofKind = kept.filter((j) => j.kind === kind);
    const f: Record<string, number> = {};
    for (const j of ofKind) for (const c of j.failed) f[c] = (f[c] ?? 0) + 1;
    byKind[kind] = { passing: share(ofKind.filter((j) => j.failed.length === 0).length, ofKind.length), failures: f };
  }
  return {
    config: name,
    samples,
    annotations: kept.length,
    cotContradictingAll: share(cots.filter((j) => j.failed.includes('contradiction')).length, cots.length),
    cotContradictingAmongPassing: share(passingCots.filter((j) => j.failed.includes('contradiction')).length, passingCots.length),
    samplesAllThreePass: share([...bySample.values()].filter((n) => n === 3).length, samples),
    annotationsPassing: share(passing.length, kept.length),
    fundamentals8WordsAmongPassing: share(passingFundamentals.filter((j) => wordsOf(j.text).length >= 8).length, passingFundamentals.length),
    loopingKept: share(failures.repetition ?? 0, kept.length),
    trimmedKept: share(kept.filter((j) => j.trimmed).length, kept.length),
    generations: made,
    failuresByCheck: failures,
    byKind,
    ...(seconds !== undefined ? { seconds: +seconds.toFixed(1), samplesPerSecond: +(samples / seconds).toFixed(4) } : {}),
  };
}

/** The gate's verdict on each generation; the old defaults have no gate to trim, the new ones trim as `spec` says. */
function judgeAll(log: LoggedGeneration[], spec: QualitySpec): Judged[] {
  return log.map((g) => {
    const v = judge(g.config === 'new' ? spec : { ...spec, trimTruncated: false }, g.kind, g.text, g.finishReason, g);
    return { ...g, text: v.text, failed: failedChecks(v.results), trimmed: v.repairs.includes('trimmed') };
  });
}

function table(log: LoggedGeneration[], spec: QualitySpec, attempts: number, seconds?: { old: number; new: number; gate: number; regenerate: number }) {
  const judged = judgeAll(log, spec);
  const samples = new Set(log.map((g) => g.id)).size;
  const old = judged.filter((g) => g.config === 'old');
  const fresh = judged.filter((g) => g.config === 'new');
  const rows = [
    row('old defaults (reference prompt, 64 tokens, no gate)', old, 1, seconds?.old, samples),
    row('new default topology, gate checks only (attempts 1)', fresh, 1, seconds ? seconds.new + seconds.gate : undefined, samples),
    row(`new default topology, gate regenerating (attempts ${attempts})`, fresh, attempts, seconds ? seconds.new + seconds.gate + seconds.regenerate : undefined, samples),
  ];
  const costs = seconds
    ? {
        gateChecksVsNoGate: +(seconds.new / (seconds.new + seconds.gate)).toFixed(3),
        gateRegeneratingVsNoGate: +(seconds.new / (seconds.new + seconds.gate + seconds.regenerate)).toFixed(3),
        newNoGateVsOld: +(seconds.old / seconds.new).toFixed(3),
      }
    : undefined;
  return { relaxed: [...relaxed], trimTruncated: spec.trimTruncated === true, rows, ...(costs ? { samplesPerSecondRatios: costs } : {}) };
}

/** The new topology's generations cut to `--budget` tokens per kind. */
function withBudget(log: LoggedGeneration[], budget: string | undefined): LoggedGeneration[] {
  if (!budget) return log;
  const limits = new Map(
    budget.split(',').map((pair) => {
      const [kind, n] = pair.split('=');
      if (!(ANNOTATION_KINDS as readonly string[]).includes(kind!) || !(Number(n) > 0)) throw new Error(`--budget: expected kind=tokens, got '${pair}'`);
      return [kind as AnnotationKind, Number(n)] as const;
    }),
  );
  const tokenizer = new ModelTokenizer(loadTokenizerFiles(join(PROJECT_ROOT, 'models', 'smollm2-135m-instruct')));
  return log.map((g) => {
    const limit = g.config === 'new' ? limits.get(g.kind) : undefined;
    if (limit === undefined) return g;
    const ids = tokenizer.encodePlain(g.text);
    return ids.length <= limit ? g : { ...g, text: tokenizer.decode(ids.slice(0, limit)).trim(), finishReason: 'length' };
  });
}

/**
 * `--faithfulness`: the teacher's own verdict on the kept chains of thought that pass the
 * text checks (src/quality/faithfulness.ts): the share after which it prefers the gold letter.
 */
async function faithfulness(log: LoggedGeneration[], spec: QualitySpec, attempts: number): Promise<Record<string, unknown>> {
  const scorer = await createContinuationScorer({ modelDir: join(PROJECT_ROOT, 'models', 'smollm2-135m-instruct') });
  try {
    const judged = judgeAll(log, spec);
    const out: Record<string, unknown> = {};
    for (const [name, config, maxAttempts] of [['old defaults', 'old', 1], [`default topology, attempts ${attempts}`, 'new', attempts]] as const) {
      const cots = keptOf(judged.filter((g) => g.config === config), maxAttempts).kept.filter((j) => j.kind === 'cot' && j.failed.length === 0);
      const results = await checkFaithfulness(scorer, cots);
      const scored = results.filter((r) => r !== undefined);
      out[name] = { passingCots: cots.length, faithful: scored.filter((r) => r.passed).length, share: share(scored.filter((r) => r.passed).length, scored.length) };
    }
    return out;
  } finally {
    await scorer.close();
  }
}

if (values.rescore) {
  const log = withBudget(readFileSync(values.rescore, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoggedGeneration), values.budget);
  const spec: QualitySpec = { ...DEFAULT_QUALITY, checks: checksFor(DEFAULT_QUALITY.checks), ...(values.trim ? { trimTruncated: true } : {}) };
  const attempts = Number(values.attempts);
  console.log(JSON.stringify({ ...table(log, spec, attempts), ...(values.faithfulness ? { faithfulnessAmongPassingCots: await faithfulness(log, spec, attempts) } : {}) }, null, 1));
} else {
  await measure();
}

async function measure(): Promise<void> {
  const topology = loadTopology(values.topology, PROJECT_ROOT);
  const base = topology.quality ?? DEFAULT_QUALITY;
  const spec: QualitySpec = { ...base, checks: checksFor(base.checks), attempts: Number(values.attempts), ...(values.trim ? { trimTruncated: true } : {}) };
  const teachers = new Map(topology.teachers.map((t) => [t.annotation, t]));
  const modelDir = topology.teachers[0]!.model!;
  const lines = readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'creak', 'creak-dev.jsonl'), 'utf8').split('\n').filter(Boolean);
  const samples: RawSample[] = lines
    .slice(Number(values.from), Number(values.from) + Number(values.count))
    .map((line) => mapToSample(JSON.parse(line) as Record<string, unknown>, parseFieldMap('id=ex_id,task=task_name'), false));
  const chatTemplate = createChatTemplate(loadTokenizerConfig(modelDir));
  const engine = await createEngine({ modelDir, workers: 2, intraOpThreads: 1 });
  mkdirSync(dirname(values.log), { recursive: true });
  writeFileSync(values.log, '');
  const log: LoggedGeneration[] = [];
  const seconds = { old: 0, new: 0, gate: 0, regenerate: 0 };
  const oldOptions: GenerationOptions = { maxNewTokens: 64, temperature: 0 };

  interface Job {
    config: 'old' | 'new';
    sample: RawSample;
    kind: AnnotationKind;
    prompt: string;
    options: GenerationOptions;
    attempt: number;
  }
  // Batches of 16 prompts of similar length, as many in flight as the engine has workers.
  const generate = async (jobs: Job[]): Promise<LoggedGeneration[]> => {
    const out = new Array<LoggedGeneration>(jobs.length);
    const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.prompt.length - jobs[a]!.prompt.length);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += 16) batches.push(order.slice(i, i + 16));
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const results = await engine.generate(batch.map((i) => ({ prompt: jobs[i]!.prompt, options: jobs[i]!.options })));
        results.forEach((r, k) => {
          const j = jobs[batch[k]!]!;
          const style = j.config === 'old' ? 'chat' : teachers.get(j.kind)!.promptStyle;
          out[batch[k]!] = { config: j.config, id: j.sample.id, kind: j.kind, attempt: j.attempt, text: extractAnnotation(j.kind, r.text, style), finishReason: r.finishReason, question: j.sample.question, answer: j.sample.answer };
        });
      }
    };
    await Promise.all(Array.from({ length: engine.concurrency }, lane));
    for (const g of out) appendFileSync(values.log, `${JSON.stringify(g)}\n`);
    log.push(...out);
    return out;
  };
  const timed = async <T>(key: keyof typeof seconds, f: () => Promise<T> | T): Promise<T> => {
    const began = performance.now();
    try {
      return await f();
    } finally {
      seconds[key] += (performance.now() - began) / 1000;
    }
  };

  const chunk = Number(values.chunk);
  try {
    for (let c = 0; c * chunk < samples.length; c++) {
      const part = samples.slice(c * chunk, (c + 1) * chunk);
      const oldJobs: Job[] = part.flatMap((sample) =>
        ANNOTATION_KINDS.map((kind) => ({ config: 'old' as const, sample, kind, prompt: buildPrompt(sample, kind, 'chat', chatTemplate), options: oldOptions, attempt: 1 })),
      );
      const newJobs: Job[] = part.flatMap((sample) =>
        ANNOTATION_KINDS.map((kind) => {
          const t = teachers.get(kind)!;
          const options = generationForSample(t.generation, t.banInventedOptions, sample.question);
          return { config: 'new' as const, sample, kind, prompt: buildPrompt(sample, kind, t.promptStyle, chatTemplate, t.instructions), options, attempt: 1 };
        }),
      );
      const runOld = async () => (values['skip-old'] ? [] : timed('old', () => generate(oldJobs)));
      const runNew = async () => {
        const first = await timed('new', () => generate(newJobs));
        // The gate: check, then regenerate the failing ones, as src/pipeline/quality-gate.ts does.
        let failing = await timed('gate', () => first.map((g, k) => ({ job: newJobs[k]!, failed: judgeAll([g], spec)[0]!.failed })));
        failing = failing.filter((f) => f.failed.length > 0);
        for (let attempt = 2; attempt <= spec.attempts && failing.length > 0; attempt++) {
          const jobs = failing.map((f) => ({ ...f.job, attempt, options: { ...f.job.options, temperature: spec.regenerateTemperature, seed: (f.job.options.seed ?? 0) + attempt - 1 } }));
          const again = await timed('regenerate', () => generate(jobs));
          failing = await timed('gate', () =>
            again
              .map((g, k) => ({ job: failing[k]!.job, failed: judgeAll([g], spec)[0]!.failed }))
              .filter((f) => f.failed.length > 0),
          );
        }
      };
      if (c % 2 === 0) {
        await runOld();
        await runNew();
      } else {
        await runNew();
        await runOld();
      }
      const done = Math.min((c + 1) * chunk, samples.length);
      console.error(`teacherlm: ${done}/${samples.length} samples; seconds old ${seconds.old.toFixed(0)}, new ${seconds.new.toFixed(0)}, gate ${seconds.gate.toFixed(1)}, regenerate ${seconds.regenerate.toFixed(0)}`);
      writeFileSync(`${values.log}.table.json`, JSON.stringify({ samplesDone: done, seconds, ...table(log, spec, spec.attempts, seconds) }, null, 1));
    }
  } finally {
    await engine.close();
  }
  console.log(JSON.stringify({ from: samples[0]?.id, to: samples.at(-1)?.id, seconds, ...table(log, spec, spec.attempts, seconds) }, null, 1));
}
