// Prompt-lookup speculation in BatchGenerator (buffered layout): the same tokens as plain
// decoding, whatever the decoding controls, with drafts verified in multi-token calls.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { BatchGenerator, type RowInput } from '../../src/teacher/generate-batch.js';
import type { GenerationOptions } from '../../src/teacher/types.js';
import { creakPrompts, inProcess } from './support/models.js';

const LOOKUP = { tokens: 4, maxRows: 64 };

/**
 * tiny-llama's session with its logits replaced by a model whose next token depends on the
 * current token only (three close candidates, so the controls change picks), so outputs
 * cycle and prompt lookup drafts well; being a function of the token alone, the logits
 * are the same in a one-token step as in a multi-token verify call. Counts the calls by
 * their `logits_to_keep`. After a token for which `eosAfter` holds, EOS is the first candidate.
 */
function copyingModel(eosId: number, calls: number[], eosAfter: (token: number) => boolean) {
  return (session: InferenceSession): InferenceSession =>
    new Proxy(session, {
      get(target, key, receiver) {
        if (key !== 'run') return Reflect.get(target, key, receiver) as unknown;
        return async (feeds: Record<string, ort.Tensor>) => {
          const out = await target.run(feeds);
          const [rows, width] = feeds.input_ids!.dims as [number, number];
          const [, keep, vocab] = out.logits!.dims as [number, number, number];
          calls.push(keep);
          const ids = feeds.input_ids!.data as BigInt64Array;
          const logits = new Float32Array(rows * keep * vocab);
          for (let r = 0; r < rows; r++) {
            for (let i = 0; i < keep; i++) {
              const t = Number(ids[r * width + width - keep + i]);
              const at = (r * keep + i) * vocab;
              logits[at + ((t * 7 + 3) % 40) + 10] = 3;
              logits[at + ((t * 11 + 5) % 40) + 10] = 2.6;
              logits[at + (t % 9 === 4 ? eosId : ((t * 13 + 1) % 40) + 10)] = 2.2;
              if (eosAfter(t)) logits[at + eosId] = 3.5;
            }
          }
          return { ...out, logits: new ort.Tensor('float32', logits, [rows, keep, vocab]) };
        };
      },
    });
}

async function generators(fake: boolean, eosAfter: (token: number) => boolean = () => false) {
  const calls: number[] = [];
  const base = await inProcess('tiny-llama');
  const eos = base.tokenizer.special.eosIds[0]!;
  const session = fake ? copyingModel(eos, calls, eosAfter)(base.session) : base.session;
  return {
    tokenizer: base.tokenizer,
    calls,
    plain: new BatchGenerator(session, base.io, base.tokenizer, ort.Tensor),
    speculative: new BatchGenerator(session, base.io, base.tokenizer, ort.Tensor, true, LOOKUP),
  };
}

const CONTROLS: Record<string, Partial<GenerationOptions>> = {
  greedy: {},
  repetitionPenalty: { repetitionPenalty: 1.3 },
  noRepeatNgramSize: { noRepeatNgramSize: 3 },
  minNewTokens: { minNewTokens: 20 },
  badWords: { badWords: ['the'] },
  stop: { stop: ['e'] },
  'default topology': { repetitionPenalty: 1.2, noRepeatNgramSize: 6 },
};

describe('BatchGenerator with prompt-lookup speculation (tiny-llama, buffered layout)', () => {
  it.each(Object.keys(CONTROLS))('gives the same tokens, texts and finish reasons as plain decoding: %s', async (name) => {
    const { tokenizer, calls, plain, speculative } = await generators(true);
    const rows: RowInput[] = creakPrompts(6).map((prompt, i) => ({
      prompt,
      ids: tokenizer.encode(prompt),
      options: { maxNewTokens: 10 + 9 * i, temperature: 0, ...CONTROLS[name] },
      ...(CONTROLS[name]!.badWords ? { badWordIds: CONTROLS[name]!.badWords!.map((w) => tokenizer.encodePlain(w)) } : {}),
    }));
    const want = await plain.generate(rows);
    expect(calls.every((k) => k === 1)).toBe(true);
    calls.length = 0;
    const got = await speculative.generate(rows);
    for (const [i, row] of got.entries()) {
      expect(Array.from(row.tokens), `row ${i}`).toEqual(Array.from(want[i]!.tokens));
      expect(row.text).toBe(want[i]!.text);
      expect(row.finishReason).toBe(want[i]!.finishReason);
      expect(row.tokens.length).toBeLessThanOrEqual(rows[i]!.options.maxNewTokens);
    }
    // Drafts were verified, several at a time, and some were kept.
    expect(calls.some((k) => k > 1)).toBe(true);
    expect(got.reduce((n, r) => n + r.acceptedDrafts, 0)).toBeGreaterThan(0);
  });

  it('ends a row at EOS, at maxNewTokens and at a stop string in the middle of a draft', async () => {
    const { tokenizer, plain, speculative } = await generators(true);
    // EOS follows every even token, but is banned for the first 12 (minNewTokens): the row
    // ends at the next even token, drafted from earlier ones that EOS did not follow.
    const withEos = await generators(true, (t) => t % 2 === 0);
    const [prompt] = creakPrompts(1);
    const ids = tokenizer.encode(prompt!);
    // A free-running row's text, for a stop string that ends it halfway.
    const [free] = await plain.generate([{ prompt: prompt!, ids, options: { maxNewTokens: 40, temperature: 0 } }]);
    const stop = free!.text.slice(free!.text.length / 2, free!.text.length / 2 + 2);
    const finishes = new Set<string>();
    for (const options of [{ maxNewTokens: 48, minNewTokens: 12 }, { maxNewTokens: 7 }, { maxNewTokens: 48, stop: [stop] }]) {
      const row: RowInput = { prompt: prompt!, ids, options: { temperature: 0, ...options } };
      const use = options.minNewTokens ? withEos : { plain, speculative };
      const [want] = await use.plain.generate([row]);
      const [got] = await use.speculative.generate([row]);
      expect(Array.from(got!.tokens)).toEqual(Array.from(want!.tokens));
      expect(got!.text).toBe(want!.text);
      expect(got!.finishReason).toBe(want!.finishReason);
      finishes.add(got!.finishReason);
    }
    expect(finishes).toEqual(new Set(['eos', 'length', 'stop']));
  });

  it('does not speculate for sampling rows, nor above maxRows, and keeps their tokens', async () => {
    const { tokenizer, calls, plain } = await generators(true);
    const sampled = creakPrompts(3).map((prompt, i) => ({ prompt, ids: tokenizer.encode(prompt), options: { maxNewTokens: 16, temperature: 1, seed: i } }));
    const want = await plain.generate(sampled);
    const session = (plain as unknown as { session: InferenceSession }).session;
    const base = await inProcess('tiny-llama');
    for (const lookup of [LOOKUP, { tokens: 4, maxRows: 2 }]) {
      calls.length = 0;
      const speculative = new BatchGenerator(session, base.io, tokenizer, ort.Tensor, true, lookup);
      const rows = lookup.maxRows === 2 ? sampled.map((r) => ({ ...r, options: { ...r.options, temperature: 0 } })) : sampled;
      const got = await speculative.generate(rows);
      if (lookup === LOOKUP) got.forEach((r, i) => expect(Array.from(r.tokens)).toEqual(Array.from(want[i]!.tokens)));
      // Three rows run above maxRows 2 until one finishes; sampled rows never draft.
      const firstVerify = calls.findIndex((k) => k > 1);
      if (lookup === LOOKUP) expect(firstVerify).toBe(-1);
      else expect(Math.min(...got.map((r) => r.tokens.length))).toBeLessThanOrEqual(firstVerify === -1 ? Infinity : firstVerify);
    }
    await base.session.release();
  });

  it('gives the same tokens when rows join and leave a running batch mid-speculation (continuous batching), the buffer growing', async () => {
    const { tokenizer, calls, plain, speculative } = await generators(true);
    const rows: RowInput[] = creakPrompts(6, 10).map((prompt, i) => ({
      prompt,
      ids: tokenizer.encode(prompt),
      options: { maxNewTokens: [90, 12, 40, 5, 70, 20][i]!, temperature: 0, ...(i % 2 ? { repetitionPenalty: 1.3 } : {}) },
    }));
    const outputs = new Map<RowInput, number[]>();
    const pending = [...rows];
    let boundary = 0;
    let joinedRunning = 0;
    await speculative.run((running) => {
      // One row every second step boundary.
      if (boundary++ % 2 !== 0 || pending.length === 0) return [];
      if (running > 0) joinedRunning++;
      const input = pending.shift()!;
      return [{ inputs: [input], done: ([out]) => outputs.set(input, Array.from(out!.tokens)), failed: (e) => { throw e; } }];
    });
    expect(joinedRunning).toBeGreaterThan(3);
    expect(calls.some((k) => k > 1)).toBe(true);
    for (const [i, row] of rows.entries()) {
      const [want] = await plain.generate([row]);
      expect(outputs.get(row), `row ${i}`).toEqual(Array.from(want!.tokens));
    }
    // The longest row outgrew the buffer's first spare columns (GROW_COLUMNS, 64).
    expect(Math.max(...[...outputs.values()].map((t) => t.length))).toBeGreaterThan(65);
  });

  it('gives the same greedy tokens as plain decoding on the real tiny model, batched with mixed lengths', async () => {
    const { tokenizer, plain, speculative } = await generators(false);
    const rows: RowInput[] = creakPrompts(8, 20).map((prompt) => ({ prompt, ids: tokenizer.encode(prompt), options: { maxNewTokens: 32, temperature: 0 } }));
    const want = await plain.generate(rows);
    const got = await speculative.generate(rows);
    got.forEach((r, i) => expect(Array.from(r.tokens), `row ${i}`).toEqual(Array.from(want[i]!.tokens)));
  });
});
