/**
 * `npm run bench:sampling [-- --vocab N --draws N]`
 *
 * Cost of one sampled token (temperature 0.7, top-k 50, top-p 0.9, and top-p 0.9 alone)
 * on a SmolLM2-sized row of logits: `sampleToken`, which selects the top of the row,
 * against the same draw done by sorting the whole row (what it replaced), in the same
 * run. Checks that both pick the same tokens. Prints one JSON object.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createRng } from '../src/teacher/prng.js';
import { type SamplingParams, sampleToken } from '../src/teacher/sampling.js';
// The peer: the same draw by sorting the whole row (what sampleToken replaced).
import { sortingSample } from '../test/teacher/support/sorting-sample.js';

const { values: v } = parseArgs({ options: { vocab: { type: 'string', default: '49152' }, draws: { type: 'string', default: '300' } } });
const vocab = Number(v.vocab);
const draws = Number(v.draws);

// Logit rows shaped like a language model's: a few strong candidates over a long tail.
const rng = createRng(1);
const rows = Array.from({ length: 16 }, () => Float32Array.from({ length: vocab }, () => 4 * Math.log(rng.next() + 1e-9) + 20 * rng.next() ** 40));
const scratch = new Float32Array(2 * vocab);

function time(pick: (row: Float32Array, u: number) => number): { usPerToken: number; picks: number[] } {
  const picks: number[] = [];
  const uniform = createRng(2);
  for (let i = 0; i < 20; i++) pick(rows[i % rows.length]!, uniform.next()); // warm-up
  const start = performance.now();
  for (let i = 0; i < draws; i++) picks.push(pick(rows[i % rows.length]!, uniform.next()));
  return { usPerToken: ((performance.now() - start) * 1000) / draws, picks };
}

const cases: Record<string, SamplingParams> = {
  'topK50-topP0.9': { temperature: 0.7, topK: 50, topP: 0.9 },
  'topP0.9': { temperature: 0.7, topP: 0.9 },
};
const results: Record<string, unknown> = { vocab, draws };
for (const [name, params] of Object.entries(cases)) {
  const ours = time((row, u) => sampleToken(row, 0, vocab, params, { next: () => u }, scratch));
  const peer = time((row, u) => sortingSample(row, params, u));
  const same = ours.picks.every((p, i) => p === peer.picks[i]);
  if (!same) throw new Error(`${name}: selection and full sort picked different tokens`);
  results[name] = {
    selectUsPerToken: +ours.usPerToken.toFixed(1),
    fullSortUsPerToken: +peer.usPerToken.toFixed(1),
    speedup: +(peer.usPerToken / ours.usPerToken).toFixed(2),
  };
}
console.log(JSON.stringify(results, null, 2));
