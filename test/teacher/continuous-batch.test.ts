import { describe, expect, it } from 'vitest';
import type { InferenceSession } from 'onnxruntime-node';
import type { RowGroup, RowInput, RowOutput } from '../../src/teacher/generate-batch.js';
import type { TeacherlmError } from '../../src/errors.js';
import { creakPrompts, inProcess } from './support/models.js';

/** Mixed prompt lengths (fragments, whole prompts, doubled prompts) and output limits. */
function inputs(encode: (p: string) => number[]): RowInput[] {
  return creakPrompts(14, 20).map((p, i) => {
    const prompt = i % 4 === 0 ? p.slice(0, 10 + i) : i % 4 === 1 ? `${p} ${p}` : p;
    const options = i % 5 === 3 ? { maxNewTokens: 40, temperature: 0.9, topK: 40, seed: i } : { maxNewTokens: 3 + ((7 * i) % 40) + (i === 9 ? 70 : 0), temperature: 0 };
    return { prompt, ids: encode(prompt), options };
  });
}

/** Groups of 1 to 3 inputs, admitted one group per `admit` call from the given call on. */
function schedule(rows: RowInput[]): { groups: RowInput[][]; outputs: Map<RowInput[], RowOutput[]> } {
  const groups: RowInput[][] = [];
  for (let i = 0; i < rows.length; ) {
    const size = 1 + (i % 3);
    groups.push(rows.slice(i, i + size));
    i += size;
  }
  return { groups, outputs: new Map() };
}

describe('BatchGenerator.run (continuous batching) on tiny-llama, buffered layout', () => {
  it('gives every row the same tokens when groups join a running batch as alone and as one static batch', async () => {
    const runs: number[] = [];
    const spy = (session: InferenceSession): InferenceSession =>
      new Proxy(session, {
        get(target, key, receiver) {
          if (key === 'run') {
            return (feeds: Record<string, { dims: readonly number[] }>) => {
              runs.push(feeds.input_ids!.dims[0]!);
              return target.run(feeds as never);
            };
          }
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    const { generator, tokenizer, io } = await inProcess('tiny-llama', spy);
    expect(io.cacheLayout).toBe('buffered');
    expect(generator.continuous).toBe(true);
    const rows = inputs((p) => tokenizer.encode(p));
    const { groups, outputs } = schedule(rows);

    let calls = 0;
    let maxRunning = 0;
    let joinedWhileRunning = 0;
    const failures: TeacherlmError[] = [];
    await generator.run((running, canJoin) => {
      expect(canJoin).toBe(true);
      maxRunning = Math.max(maxRunning, running);
      // One group every third step boundary, so groups join rows at different depths.
      if (calls++ % 3 !== 0 || groups.length === 0) return [];
      const next = groups.shift()!;
      if (running > 0) joinedWhileRunning++;
      const group: RowGroup = { inputs: next, done: (out) => outputs.set(next, out), failed: (e) => failures.push(e) };
      return [group];
    });
    expect(failures).toEqual([]);
    expect(joinedWhileRunning).toBeGreaterThan(3);
    expect(maxRunning).toBeGreaterThan(3);
    const continuous = [...outputs.keys()].sort((a, b) => rows.indexOf(a[0]!) - rows.indexOf(b[0]!)).flatMap((g) => outputs.get(g)!);
    expect(continuous).toHaveLength(rows.length);
    // Every step ran only the rows still generating: never more than the rows admitted.
    expect(Math.max(...runs)).toBeLessThanOrEqual(rows.length);

    const staticBatch = await generator.generate(rows);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(continuous[i]!.tokens), `row ${i} against alone`).toEqual(Array.from(alone!.tokens));
      expect(Array.from(staticBatch[i]!.tokens), `row ${i} static against alone`).toEqual(Array.from(alone!.tokens));
      expect(continuous[i]!.text).toBe(alone!.text);
      expect(continuous[i]!.finishReason).toBe(alone!.finishReason);
    }
    // A long output made the buffer grow past its first spare columns.
    expect(Math.max(...continuous.map((r) => r.tokens.length))).toBeGreaterThan(65);
  });

  it('fails a group whose prompt is empty alone, and finishes the others', async () => {
    const { generator, tokenizer } = await inProcess('tiny-llama');
    const [a, b] = creakPrompts(2);
    const good = [{ prompt: a!, ids: tokenizer.encode(a!), options: { maxNewTokens: 6, temperature: 0 } }];
    const bad = [{ prompt: '', ids: [] as number[], options: { maxNewTokens: 6, temperature: 0 } }, { prompt: b!, ids: tokenizer.encode(b!), options: { maxNewTokens: 6, temperature: 0 } }];
    const done: RowOutput[][] = [];
    const failed: TeacherlmError[] = [];
    const pending = [good, bad];
    await generator.run(() => pending.splice(0).map((inputs) => ({ inputs, done: (o) => done.push(o), failed: (e) => failed.push(e) })));
    expect(done).toHaveLength(1);
    expect(done[0]).toHaveLength(1);
    expect(failed.map((e) => e.code)).toEqual(['GENERATION_FAILED']);
    expect(failed[0]!.message).toContain('prompt 0 encodes to no tokens');
  });
});

describe('BatchGenerator.run on an Optimum-layout model (static batching)', () => {
  it('admits only into an empty batch', async () => {
    const { generator, tokenizer } = await inProcess('tiny-bloom');
    expect(generator.continuous).toBe(false);
    const rows = creakPrompts(3).map((p, i) => ({ prompt: p, ids: tokenizer.encode(p), options: { maxNewTokens: 2 + 4 * i, temperature: 0 } }));
    const pending = rows.map((r) => [r]);
    const seen: boolean[] = [];
    const outputs: RowOutput[] = [];
    await generator.run((running, canJoin) => {
      seen.push(canJoin);
      if (!canJoin) return [];
      expect(running).toBe(0);
      return pending.splice(0, 1).map((inputs) => ({ inputs, done: (o) => outputs.push(...o), failed: (e) => { throw e; } }));
    });
    expect(outputs).toHaveLength(3);
    expect(seen).toContain(false);
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await generator.generate([rows[i]!]);
      expect(Array.from(outputs[i]!.tokens)).toEqual(Array.from(alone!.tokens));
    }
  });
});
