/**
 * The quality gate in file mode: checks a window's generations, then regenerates the
 * failing ones attempt by attempt, each round in batches across the engine's workers, as
 * the stream's gate does one by one (src/pipeline/quality-gate.ts; the rules are shared in
 * src/quality/gate.ts). Batching stays invisible, so the kept texts are the stream's.
 * A regeneration batch that the engine (or the scorer) fails ends those annotations' regenerations.
 */
import type { ContinuationScorer } from '../teacher/continuation-scorer.js';
import { addFaithfulness, isBetter, judge, outcomeOf, regenerationOptions, repairedResult, type QualityOutcome, type Verdict } from '../quality/gate.js';
import { generationForSample } from '../quality/invented-options.js';
import type { QualitySpec } from '../quality/quality-options.js';
import { extractAnnotation } from '../teacher/prompts.js';
import type { AnnotationKind, GenerationOptions, GenerationResult, PromptStyle, TextGenerator } from '../teacher/types.js';

export interface GatedTask {
  kind: AnnotationKind;
  prompt: string;
  sample: { question: string; answer: string };
}

export interface GateBatchOptions {
  spec: QualitySpec;
  generation: GenerationOptions;
  /** Regenerations ban the option labels each question does not offer, as the first generation did. */
  banInventedOptions?: boolean;
  promptStyle: PromptStyle;
  maxBatchSize: number;
  /** For `checks.faithfulness`. */
  scorer?: ContinuationScorer;
}

export interface GatedResults {
  /** Per task: the kept attempt's outcome; undefined where the first generation failed. */
  qualities: (QualityOutcome | undefined)[];
  verdicts: (Verdict | undefined)[];
  /** Tokens the regenerations generated. */
  regeneratedTokens: number;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Gates `results` (by task index) in place: each ends as the kept attempt. */
export async function gateBatch(
  tasks: readonly GatedTask[],
  results: (GenerationResult | undefined)[],
  options: GateBatchOptions,
  generator: TextGenerator,
): Promise<GatedResults> {
  const { spec } = options;
  // Judges the text checks, then scores faithfulness for all of them in one call.
  const assessAll = async (items: { task: number; result: GenerationResult }[]): Promise<{ verdict: Verdict; result: GenerationResult }[]> => {
    const judged = items.map(({ task, result }) => {
      const { kind, sample } = tasks[task]!;
      const text = extractAnnotation(kind, result.text, options.promptStyle);
      const verdict = judge(spec, kind, text, result.finishReason, sample);
      return { kind, text: verdict.text, sample, verdict, result: repairedResult(result, text, verdict) };
    });
    await addFaithfulness(spec, options.scorer, judged);
    return judged.map((j) => ({ verdict: j.verdict, result: j.result }));
  };
  const first = results.flatMap((result, task) => (result ? [{ task, result }] : []));
  const verdicts = new Array<Verdict | undefined>(results.length);
  (await assessAll(first)).forEach((v, k) => {
    verdicts[first[k]!.task] = v.verdict;
    results[first[k]!.task] = v.result;
  });
  const attempts = results.map(() => 1);
  let regeneratedTokens = 0;
  let failing = verdicts.flatMap((v, i) => (v && !v.passed ? [i] : []));
  for (let attempt = 2; attempt <= spec.attempts && failing.length > 0; attempt++) {
    const request = regenerationOptions(options.generation, spec, attempt);
    const batches: number[][] = [];
    for (let i = 0; i < failing.length; i += options.maxBatchSize) batches.push(failing.slice(i, i + options.maxBatchSize));
    const stillFailing: number[] = [];
    await eachLimit(batches, Math.max(1, generator.concurrency), async (batch) => {
      let made: { task: number; result: GenerationResult }[];
      let judged: { verdict: Verdict; result: GenerationResult }[];
      try {
        const again = await generator.generate(
          batch.map((t) => ({ prompt: tasks[t]!.prompt, options: generationForSample(request, options.banInventedOptions, tasks[t]!.sample.question) })),
        );
        made = batch.flatMap((task, k) => (again[k] ? [{ task, result: again[k] }] : []));
        judged = await assessAll(made);
      } catch {
        return;
      }
      made.forEach(({ task: t, result: generated }, k) => {
        const { verdict, result: r } = judged[k]!;
        attempts[t] = attempt;
        regeneratedTokens += generated.generatedTokens;
        if (isBetter(verdict, verdicts[t]!)) {
          verdicts[t] = verdict;
          results[t] = r;
        }
        if (!verdict.passed) stillFailing.push(t);
      });
    });
    failing = stillFailing.sort((a, b) => a - b);
  }
  return { qualities: verdicts.map((v, i) => (v ? outcomeOf(v, attempts[i]!) : undefined)), verdicts, regeneratedTokens };
}
