import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { BatchGenerator } from '../../src/teacher/generate-batch.js';
import { TEST_MODELS, creakPrompts, inProcess } from './support/models.js';
import type { GenerationOptions } from '../../src/teacher/types.js';

const greedy: GenerationOptions = { maxNewTokens: 24, temperature: 0 };

/** Prompts of clearly mixed lengths: short fragments and whole CREAK prompts. */
function mixedPrompts(): string[] {
  return creakPrompts(16, 40).map((p, i) => (i % 4 === 0 ? p.slice(0, 12 + i) : i % 4 === 1 ? `${p} ${p}` : p));
}

describe.each(TEST_MODELS)('BatchGenerator on %s', (model) => {
  it('gives each prompt the same greedy output alone as in a batch of 16 mixed lengths', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const prompts = mixedPrompts();
    const lengths = new Set(prompts.map((p) => tokenizer.countTokens(p)));
    expect(lengths.size).toBeGreaterThan(8);
    const rows = prompts.map((prompt) => ({ prompt, ids: tokenizer.encode(prompt), options: greedy }));
    const batched = await generator.generate(rows);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(batched[i]!.tokens), `prompt ${i}`).toEqual(Array.from(alone!.tokens));
      expect(batched[i]!.text).toBe(alone!.text);
      expect(batched[i]!.finishReason).toBe(alone!.finishReason);
      expect(batched[i]!.promptTokens).toBe(tokenizer.countTokens(prompts[i]!));
    }
  });

  it('reproduces sampled text with the same seed, whatever the batch, and differs across seeds', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const [prompt, ...others] = creakPrompts(6);
    const sampled = (seed: number): GenerationOptions => ({ maxNewTokens: 32, temperature: 1, topK: 50, topP: 0.95, seed });
    const row = (seed: number) => ({ prompt: prompt!, ids: tokenizer.encode(prompt!), options: sampled(seed) });
    const [a] = await generator.generate([row(7)]);
    const [b] = await generator.generate([row(7)]);
    const inBatch = await generator.generate([
      ...others.map((p, i) => ({ prompt: p, ids: tokenizer.encode(p), options: sampled(100 + i) })),
      row(7),
    ]);
    expect(b!.text).toBe(a!.text);
    expect(Array.from(inBatch[others.length]!.tokens)).toEqual(Array.from(a!.tokens));
    // Tokens, not texts: the tiny models' byte tokens often decode to the same replacement
    // characters. Not all five draws agree (tiny-bloom is peaked: two seeds draw the same).
    const drawn = new Set([a!.tokens.join()]);
    for (const seed of [1, 2, 3, 4]) drawn.add((await generator.generate([row(seed)]))[0]!.tokens.join());
    expect(drawn.size).toBeGreaterThan(1);
  });

  it('keeps a one-token prompt right beside a long one (its split-prefill head is all padding)', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const [long] = creakPrompts(1);
    const rows = [
      { prompt: 'x', ids: tokenizer.encode('x').slice(-1), options: greedy },
      { prompt: long!, ids: tokenizer.encode(long!), options: greedy },
    ];
    const batched = await generator.generate(rows);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(batched[i]!.tokens), `row ${i}`).toEqual(Array.from(alone!.tokens));
    }
  });

  it('lets finished rows leave the batch: later steps run on the survivors only', async () => {
    const batchSizes: number[] = [];
    const spy = (session: InferenceSession): InferenceSession =>
      new Proxy(session, {
        get(target, key, receiver) {
          if (key === 'run') {
            // Runs that yield logits yield one token per row (a cache-only prefill part does not).
            return (feeds: Record<string, { dims: readonly number[] }>, fetches?: unknown) => {
              const logits = fetches === undefined || (typeof fetches === 'object' && fetches !== null && !Array.isArray(fetches) && 'logits' in fetches);
              if (logits) batchSizes.push(feeds.input_ids!.dims[0]!);
              return target.run(feeds as never, fetches as never);
            };
          }
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    const { generator, tokenizer } = await inProcess(model, spy);
    const prompts = creakPrompts(4);
    const limits = [2, 5, 9, 9];
    const out = await generator.generate(
      prompts.map((p, i) => ({ prompt: p, ids: tokenizer.encode(p), options: { maxNewTokens: limits[i]!, temperature: 0 } })),
    );
    // A row that stops on EOS before its limit leaves earlier still; none runs past its limit.
    out.forEach((r, i) => expect(r.tokens.length).toBeLessThanOrEqual(limits[i]!));
    const lastStep = Math.max(...out.map((r) => r.tokens.length));
    expect(batchSizes).toHaveLength(lastStep);
    for (let step = 1; step < batchSizes.length; step++) {
      const alive = out.filter((r) => r.tokens.length > step).length;
      expect(batchSizes[step]).toBe(alive);
    }
    expect(batchSizes[0]).toBe(4);
  });

  it('gives the same tokens with the prefill split in two (logits for the last position only) as in one run', async () => {
    const split = await inProcess(model);
    const whole = await inProcess(model, undefined, false);
    const rows = mixedPrompts().map((prompt) => ({ prompt, ids: split.tokenizer.encode(prompt), options: greedy }));
    const a = await split.generator.generate(rows);
    const b = await whole.generator.generate(rows);
    expect(a.map((r) => Array.from(r.tokens))).toEqual(b.map((r) => Array.from(r.tokens)));
  });

  it('stops on a stop string and cuts the text before it', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const [prompt] = creakPrompts(1, 3);
    const [free] = await generator.generate([{ prompt: prompt!, ids: tokenizer.encode(prompt!), options: { maxNewTokens: 40, temperature: 0 } }]);
    const text = free!.text;
    // A stop string taken from the middle of the free-running output.
    const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3);
    expect(stop.length).toBe(3);
    const [stopped] = await generator.generate([
      { prompt: prompt!, ids: tokenizer.encode(prompt!), options: { maxNewTokens: 40, temperature: 0, stop: [stop] } },
    ]);
    expect(stopped!.finishReason).toBe('stop');
    expect(stopped!.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(stopped!.tokens.length).toBeLessThan(free!.tokens.length);
  });
});

describe('BatchGenerator on the two cache layouts', () => {
  it('runs tiny-llama in the fast layout by default, and the Optimum file on request', async () => {
    expect((await inProcess('tiny-llama')).io.cacheLayout).toBe('buffered');
    expect((await inProcess('tiny-llama', undefined, true, 'fp32', 'model.onnx')).io.cacheLayout).toBe('optimum');
    expect((await inProcess('tiny-bloom')).io.cacheLayout).toBe('optimum');
  });

  it('prefills prompts of unlike lengths in calls of like lengths (fast layout), each row as alone', async () => {
    const widths: [number, number][] = [];
    const counting = (session: InferenceSession) =>
      new Proxy(session, {
        get(target, key) {
          if (key === 'run') {
            return (feeds: Record<string, ort.Tensor>) => {
              const [rows, width] = feeds.input_ids!.dims as [number, number];
              if (width > 1) widths.push([rows, width]);
              return target.run(feeds);
            };
          }
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    const { generator, tokenizer } = await inProcess('tiny-llama', counting);
    const rows = mixedPrompts().map((prompt) => ({ prompt, ids: tokenizer.encode(prompt), options: greedy }));
    const batched = await generator.generate(rows);
    // One join, several calls: the doubled prompts apart from the fragments.
    expect(widths.length).toBeGreaterThan(1);
    expect(widths.reduce((n, [r]) => n + r, 0)).toBe(rows.length);
    const padded = widths.reduce((n, [r, w]) => n + r * w, 0);
    expect(padded).toBeLessThan(rows.length * Math.max(...rows.map((r) => r.ids.length)));
    widths.length = 0;
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(batched[i]!.tokens), `prompt ${i}`).toEqual(Array.from(alone!.tokens));
    }
  });

  it('gives the same greedy and sampled tokens in both layouts, batched with mixed lengths, rows finishing early and the buffer growing', async () => {
    const fast = await inProcess('tiny-llama');
    const optimum = await inProcess('tiny-llama', undefined, true, 'fp32', 'model.onnx');
    const rows = mixedPrompts().map((prompt, i) => ({
      prompt,
      ids: fast.tokenizer.encode(prompt),
      options: i % 2 === 0 ? { maxNewTokens: 4 + 3 * i + (i % 4 === 0 ? 80 : 0), temperature: 0 } : { maxNewTokens: 30, temperature: 0.8, topK: 40, seed: i },
    }));
    const a = await fast.generator.generate(rows);
    const b = await optimum.generator.generate(rows);
    expect(new Set(a.map((r) => r.tokens.length)).size).toBeGreaterThan(4);
    // Past the first 64 spare columns: the buffer grew at least once.
    expect(Math.max(...a.map((r) => r.tokens.length))).toBeGreaterThan(65);
    expect(a.map((r) => Array.from(r.tokens))).toEqual(b.map((r) => Array.from(r.tokens)));
  });
});

describe('BatchGenerator finish reasons', () => {
  it('reports eos when the model ends a row, and excludes the EOS from the text', async () => {
    const { generator, tokenizer } = await inProcess('tiny-llama');
    const prompts = creakPrompts(48);
    const out = await generator.generate(prompts.map((p) => ({ prompt: p, ids: tokenizer.encode(p), options: { maxNewTokens: 64, temperature: 1, seed: 3 } })));
    const eos = out.filter((r) => r.finishReason === 'eos');
    // Random weights over a 768-token vocabulary with two EOS ids: some of 48 rows end early.
    expect(eos.length).toBeGreaterThan(0);
    for (const r of eos) expect(tokenizer.special.eosIds).toContain(r.tokens[r.tokens.length - 1]);
    for (const r of out.filter((x) => x.finishReason === 'length')) expect(r.tokens.length).toBe(64);
  });
});

describe('BatchGenerator and the model context', () => {
  it('reads max_position_embeddings from config.json', async () => {
    const { io } = await inProcess('tiny-llama');
    expect(io.maxPositions).toBe(2048);
  });

  it('stops a row when prompt and output fill the positions, and refuses a prompt that fills them alone', async () => {
    const { generator, session, io, tokenizer } = await inProcess('tiny-llama');
    const [prompt] = creakPrompts(1, 3);
    const ids = tokenizer.encode(prompt!);
    const [free] = await generator.generate([{ prompt: prompt!, ids, options: { maxNewTokens: 40, temperature: 0 } }]);
    expect(free!.finishReason).toBe('length');
    const small = new BatchGenerator(session, { ...io, maxPositions: ids.length + 5 }, tokenizer, ort.Tensor);
    const [capped] = await small.generate([{ prompt: prompt!, ids, options: { maxNewTokens: 40, temperature: 0 } }]);
    expect(capped!.finishReason).toBe('length');
    expect(Array.from(capped!.tokens)).toEqual(Array.from(free!.tokens).slice(0, 5));
    const tight = new BatchGenerator(session, { ...io, maxPositions: ids.length }, tokenizer, ort.Tensor);
    const err = await tight.generate([{ prompt: prompt!, ids, options: greedy }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GENERATION_FAILED', retriable: false });
    expect((err as Error).message).toBe(`prompt 0 has ${ids.length} tokens; the model covers ${ids.length} positions (max_position_embeddings), prompt and output included`);
  });
});

describe.each(TEST_MODELS)('BatchGenerator decoding controls on %s', (model) => {
  const controlled: GenerationOptions = { maxNewTokens: 24, temperature: 0, repetitionPenalty: 1.3, noRepeatNgramSize: 2, minNewTokens: 12 };

  it('keep the same output alone as in a batch, and do what they say', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const prompts = mixedPrompts().slice(0, 8);
    const rows = prompts.map((prompt) => ({ prompt, ids: tokenizer.encode(prompt), options: controlled }));
    const batched = await generator.generate(rows);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(batched[i]!.tokens), `prompt ${i}`).toEqual(Array.from(alone!.tokens));
      // No generated token completes a bigram the sequence (prompt included) already had;
      // repeats inside the prompt itself are the prompt's.
      const sequence = [...rows[i]!.ids, ...batched[i]!.tokens];
      const bigrams = new Set<string>();
      for (let j = 0; j + 1 < sequence.length; j++) {
        const bigram = `${sequence[j]} ${sequence[j + 1]}`;
        if (j + 1 >= rows[i]!.ids.length) expect(bigrams.has(bigram), `prompt ${i}: bigram ${bigram} repeated`).toBe(false);
        bigrams.add(bigram);
      }
      expect(batched[i]!.tokens.length, `prompt ${i}`).toBeGreaterThanOrEqual(12);
    }
    // The controls change what greedy decoding picks.
    const plain = await generator.generate(rows.map((r) => ({ ...r, options: { maxNewTokens: 24, temperature: 0 } })));
    expect(plain.some((p, i) => p.tokens.join() !== batched[i]!.tokens.join())).toBe(true);
  });
});

describe.each(TEST_MODELS)('BatchGenerator banned sequences on %s', (model) => {
  it('never complete a row\'s own banned sequences, and a row alone equals it in a batch where other rows ban others', async () => {
    const { generator, tokenizer } = await inProcess(model);
    const prompts = mixedPrompts().slice(0, 6);
    const plain = await generator.generate(prompts.map((prompt) => ({ prompt, ids: tokenizer.encode(prompt), options: greedy })));
    // Each even row bans the first two tokens its plain output began with; odd rows ban nothing.
    const rows = prompts.map((prompt, i) => {
      const ban = [Array.from(plain[i]!.tokens.slice(0, 2))];
      return i % 2 === 0
        ? { prompt, ids: tokenizer.encode(prompt), options: { ...greedy, badWords: ['banned'] }, badWordIds: ban }
        : { prompt, ids: tokenizer.encode(prompt), options: greedy };
    });
    const batched = await generator.generate(rows);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(batched[i]!.tokens), `prompt ${i}`).toEqual(Array.from(alone!.tokens));
      if (i % 2 === 1) {
        expect(Array.from(batched[i]!.tokens), `prompt ${i}`).toEqual(Array.from(plain[i]!.tokens));
        continue;
      }
      const [a, b] = plain[i]!.tokens;
      const sequence = [...rows[i]!.ids, ...batched[i]!.tokens];
      for (let j = rows[i]!.ids.length; j < sequence.length; j++) expect(sequence[j - 1] === a && sequence[j] === b, `prompt ${i} at ${j}`).toBe(false);
    }
  });
});
