/**
 * The quality gate in file mode: checks a window's generations, then regenerates the
 * failing ones attempt by attempt, each round in batches across the engine's workers, as
 * the stream's gate does one by one (src/pipeline/quality-gate.ts; the rules are shared in
 * src/quality/gate.ts). Batching stays invisible, so the kept texts are the stream's.
 * A regeneration batch that the engine fails ends those annotations' regenerations.
 */
import { isBetter, judge, outcomeOf, regenerationOptions, type QualityOutcome, type Verdict } from '../quality/gate.js';
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
  promptStyle: PromptStyle;
  maxBatchSize: number;
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
  const assess = (i: number, r: GenerationResult): Verdict =>
    judge(spec, tasks[i]!.kind, extractAnnotation(tasks[i]!.kind, r.text, options.promptStyle), r.finishReason, tasks[i]!.sample);
  const verdicts = results.map((r, i) => (r ? assess(i, r) : undefined));
  const attempts = results.map(() => 1);
  let regeneratedTokens = 0;
  let failing = verdicts.flatMap((v, i) => (v && !v.passed ? [i] : []));
  for (let attempt = 2; attempt <= spec.attempts && failing.length > 0; attempt++) {
    const request = regenerationOptions(options.generation, spec, attempt);
    const batches: number[][] = [];
    for (let i = 0; i < failing.length; i += options.maxBatchSize) batches.push(failing.slice(i, i + options.maxBatchSize));
    const stillFailing: number[] = [];
    await eachLimit(batches, Math.max(1, generator.concurrency), async (batch) => {
      let again: GenerationResult[];
      try {
        again = await generator.generate(batch.map((t) => ({ prompt: tasks[t]!.prompt, options: request })));
      } catch {
        return;
      }
      batch.forEach((t, k) => {
        const r = again[k];
        if (!r) return;
        attempts[t] = attempt;
        regeneratedTokens += r.generatedTokens;
        const verdict = assess(t, r);
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
