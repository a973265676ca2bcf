/** The real {@link MeasureLayout}: starts the engine in the layout and times the tuning workload on it. */
import { createEngine } from '../create-engine.js';
import type { EngineOptions } from '../engine-options.js';
import type { Layout } from '../engine-layout.js';
import type { MeasureLayout } from './tune-layouts.js';
import { promptCountAt, tunePrompts, type TuneWorkload } from './tune-workload.js';

export type MeasuredEngine = Pick<EngineOptions, 'modelDir' | 'dtype' | 'onnxFile' | 'device' | 'log'>;

/** `widestWorkers`: the most workers among the candidates, so every layout runs the same prompts at a batch size. */
export function engineMeasurer(engine: MeasuredEngine, workload: TuneWorkload, widestWorkers: number): MeasureLayout {
  const promptsAt = new Map(workload.batchSizes.map((b) => [b, tunePrompts(promptCountAt(b, widestWorkers))]));
  return async (layout: Layout) => {
    const generator = await createEngine({ ...engine, workers: layout.workers, intraOpThreads: layout.intraOpThreads, batching: 'static' });
    try {
      // Warm-up: the first calls of a session pay for its allocations.
      const warm = promptsAt.get(workload.batchSizes[0]!)!.slice(0, 2 * layout.workers);
      await generator.generate(warm.map((prompt) => ({ prompt, options: { maxNewTokens: 2, temperature: 0 } })));
      const tokensPerSec: Record<string, number> = {};
      for (const [b, prompts] of promptsAt) {
        const batches: string[][] = [];
        for (let i = 0; i < prompts.length; i += b) batches.push(prompts.slice(i, i + b));
        const started = performance.now();
        const results = await Promise.all(batches.map((batch) => generator.generate(batch.map((prompt) => ({ prompt, options: { maxNewTokens: workload.maxNewTokens, temperature: 0 } })))));
        const seconds = (performance.now() - started) / 1000;
        tokensPerSec[String(b)] = results.flat().reduce((n, r) => n + r.generatedTokens, 0) / seconds;
      }
      return { provider: generator.provider ?? 'cpu', tokensPerSec };
    } finally {
      await generator.close();
    }
  };
}
