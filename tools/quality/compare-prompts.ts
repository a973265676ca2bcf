/**
 * Measures prompt and decoding candidates for a chat teacher with the quality gate's own
 * checks, on CREAK dev samples (test/fixtures/creak/creak-dev.jsonl), greedy: for each
 * candidate, the share of chains of thought contradicting the gold answer (all, and among
 * those that pass every check), the share of samples whose three annotations all pass,
 * fundamentals of at least 8 words among the passing ones, looping annotations, and
 * samples/s. Prints JSON; candidates run one after the other on one engine.
 *
 *   npx tsx tools/quality/compare-prompts.ts [--model DIR] [--from 400] [--count 40] [--max-new-tokens 64] [--only a,b]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { checkAnnotation, failedChecks } from '../../src/quality/checks.js';
import { DEFAULT_QUALITY } from '../../src/quality/quality-options.js';
import { parseFieldMap } from '../../src/records/field-map.js';
import { mapToSample } from '../../src/records/map-sample.js';
import { buildPrompt, createEngine, extractAnnotation, type GenerationOptions, type RawSample } from '../../src/index.js';
import { createChatTemplate } from '../../src/teacher/chat-template.js';
import { loadTokenizerConfig } from '../../src/teacher/model-files.js';
import { ANNOTATION_KINDS } from '../../src/teacher/types.js';
import { CANDIDATES } from './prompt-candidates.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(PROJECT_ROOT, 'models', 'smollm2-135m-instruct') },
    from: { type: 'string', default: '400' },
    count: { type: 'string', default: '40' },
    'max-new-tokens': { type: 'string', default: '64' },
    only: { type: 'string' },
  },
});

const lines = readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'creak', 'creak-dev.jsonl'), 'utf8').split('\n').filter(Boolean);
const samples: RawSample[] = lines
  .slice(Number(values.from), Number(values.from) + Number(values.count))
  .map((line) => mapToSample(JSON.parse(line) as Record<string, unknown>, parseFieldMap('id=ex_id,task=task_name'), false));
const chatTemplate = createChatTemplate(loadTokenizerConfig(values.model));
const engine = await createEngine({ modelDir: values.model, workers: 2, intraOpThreads: 1 });
const only = values.only?.split(',');
const report: Record<string, unknown>[] = [];
try {
  for (const candidate of CANDIDATES.filter((c) => !only || only.includes(c.name))) {
    const options: GenerationOptions = { maxNewTokens: Number(values['max-new-tokens']), temperature: 0, ...candidate.generation };
    const tasks = samples.flatMap((sample) =>
      ANNOTATION_KINDS.map((kind) => ({ sample, kind, prompt: buildPrompt(sample, kind, 'chat', chatTemplate, candidate.instructions?.[kind]) })),
    );
    const began = performance.now();
    const texts: string[] = [];
    for (let i = 0; i < tasks.length; i += 16) {
      const batch = tasks.slice(i, i + 16);
      const results = await engine.generate(batch.map((t) => ({ prompt: t.prompt, options })));
      results.forEach((r, j) => texts.push(JSON.stringify({ text: extractAnnotation(batch[j]!.kind, r.text, 'chat'), finishReason: r.finishReason })));
    }
    const seconds = (performance.now() - began) / 1000;
    const judged = tasks.map((t, i) => {
      const { text, finishReason } = JSON.parse(texts[i]!) as { text: string; finishReason: string };
      const failed = failedChecks(checkAnnotation({ kind: t.kind, text, finishReason, question: t.sample.question, answer: t.sample.answer }, DEFAULT_QUALITY.checks));
      return { ...t, text, failed };
    });
    const share = (n: number, d: number) => (d === 0 ? null : +(n / d).toFixed(3));
    const cots = judged.filter((j) => j.kind === 'cot');
    const passingCots = cots.filter((j) => j.failed.length === 0);
    const passingFundamentals = judged.filter((j) => j.kind === 'fundamentals' && j.failed.length === 0);
    const bySample = new Map<string, number>();
    for (const j of judged) if (j.failed.length === 0) bySample.set(j.sample.id, (bySample.get(j.sample.id) ?? 0) + 1);
    const failures: Record<string, number> = {};
    for (const j of judged) for (const f of j.failed) failures[f] = (failures[f] ?? 0) + 1;
    report.push({
      candidate: candidate.name,
      samples: samples.length,
      cotContradictingGold: share(cots.filter((j) => j.failed.includes('contradiction')).length, cots.length),
      cotContradictingAmongPassing: share(passingCots.filter((j) => j.failed.includes('contradiction')).length, passingCots.length),
      samplesAllThreePass: share([...bySample.values()].filter((n) => n === 3).length, samples.length),
      annotationsPassing: share(judged.filter((j) => j.failed.length === 0).length, judged.length),
      fundamentals8WordsAmongPassing: share(passingFundamentals.filter((j) => j.text.split(/\s+/).filter(Boolean).length >= 8).length, passingFundamentals.length),
      looping: share(failures.repetition ?? 0, judged.length),
      failuresByCheck: failures,
      samplesPerSecond: +(samples.length / seconds).toFixed(3),
      example: judged.slice(0, 3).map((j) => ({ id: j.sample.id, kind: j.kind, failed: j.failed, text: j.text.slice(0, 200) })),
    });
    console.error(`teacherlm: ${candidate.name}: ${seconds.toFixed(0)} s`);
  }
} finally {
  await engine.close();
}
console.log(JSON.stringify(report, null, 1));
