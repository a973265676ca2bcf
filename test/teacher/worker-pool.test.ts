import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/teacher/create-engine.js';
import { WorkerPool } from '../../src/teacher/worker-pool.js';
import { loadModelFiles } from '../../src/teacher/model-files.js';
import { ModelTokenizer } from '../../src/teacher/tokenizer.js';
import { isTeacherlmError, TeacherlmError } from '../../src/errors.js';
import type { GenerationRequest, TextGenerator } from '../../src/teacher/types.js';
import { creakPrompts, inProcess, modelDir } from './support/models.js';

const open: TextGenerator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

const greedy = (prompt: string, maxNewTokens = 16): GenerationRequest => ({ prompt, options: { maxNewTokens, temperature: 0 } });

describe('createEngine (worker pool)', () => {
  it('generates in worker threads, the same text as the in-process generator, in request order', async () => {
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), workers: 2, intraOpThreads: 1, device: 'cpu' });
    open.push(engine);
    expect(engine.modelId).toBe('tiny-llama');
    expect(engine.concurrency).toBe(2);
    const prompts = creakPrompts(10);
    const [first, second] = await Promise.all([engine.generate(prompts.slice(0, 5).map((p) => greedy(p))), engine.generate(prompts.slice(5).map((p) => greedy(p)))]);
    const results = [...first, ...second];
    const { generator, tokenizer } = await inProcess('tiny-llama');
    const expected = await generator.generate(prompts.map((p) => ({ prompt: p, ids: tokenizer.encode(p), options: greedy(p).options })));
    results.forEach((r, i) => {
      expect(r.text).toBe(expected[i]!.text);
      expect(r.generatedTokens).toBe(expected[i]!.tokens.length);
      expect(r.promptTokens).toBe(engine.countTokens(prompts[i]!));
      expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.prefillMs);
    });
  });

  it('encodes badWords with the model\'s tokenizer in the worker and bans them for their row only', async () => {
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), workers: 1, intraOpThreads: 1, device: 'cpu' });
    open.push(engine);
    const tokenizer = new ModelTokenizer(loadModelFiles(modelDir('tiny-llama')));
    const [prompt, other] = creakPrompts(2);
    const [plain] = await engine.generate([greedy(prompt!)]);
    // A word of the plain output that encodes to itself alone, banned as text.
    const ids = tokenizer.encodePlain(plain!.text);
    const word = ids.map((id) => tokenizer.decode([id])).find((w) => w.trim() !== '' && tokenizer.encodePlain(w).length === 1 && plain!.text.includes(w))!;
    expect(word).toBeDefined();
    const banned = { prompt: prompt!, options: { maxNewTokens: 16, temperature: 0, badWords: [word] } };
    const [alone] = await engine.generate([banned]);
    const [together, untouched] = await engine.generate([banned, greedy(other!)]);
    expect(alone!.text).not.toContain(word);
    expect(together!.text).toBe(alone!.text);
    expect(untouched!.text).toBe((await engine.generate([greedy(other!)]))[0]!.text);
  });

  it('encodes each prompt once: the ids countTokens made go to the worker, which encodes only prompts sent without them', async () => {
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), workers: 1, intraOpThreads: 1, device: 'cpu' });
    open.push(engine);
    const [counted, uncounted] = creakPrompts(2) as [string, string];
    const tokens = engine.countTokens(counted);
    const sent = vi.spyOn(Worker.prototype, 'postMessage');
    try {
      const results = await engine.generate([greedy(counted, 4), greedy(uncounted, 4)]);
      const message = sent.mock.calls.map(([m]) => m as { type: string; ids?: (Int32Array | null)[] }).find((m) => m.type === 'generate');
      const files = loadModelFiles(modelDir('tiny-llama'));
      expect(message?.ids?.[0]).toBeInstanceOf(Int32Array);
      expect(message?.ids?.[0]?.length).toBe(0); // transferred to the worker: the main thread's copy is detached
      expect(message?.ids?.[1]).toBeNull();
      // The worker generated from those ids: the same prompt lengths as the tokenizer gives.
      expect(results.map((r) => r.promptTokens)).toEqual([tokens, new ModelTokenizer(files).encode(uncounted).length]);
    } finally {
      sent.mockRestore();
    }
  });

  it('keeps the main event loop free while generating: the main thread answers a worker held mid-generation', async () => {
    // The worker stops after its prefill and waits for the main thread's answer before its
    // next step. Were generation on the main thread, nothing could answer it: the batch
    // would fail (the worker gives up after a minute) instead of finishing its 8 tokens.
    const files = loadModelFiles(modelDir('tiny-llama'));
    const held = creakPrompts(1)[0]!;
    const handshake = new Int32Array(new SharedArrayBuffer(8));
    const pool = new WorkerPool({
      modelId: files.modelId,
      workers: 1,
      maxBatchSize: 16,
      batching: 'continuous',
      tokenizer: new ModelTokenizer(files),
      log: () => {},
      init: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: 1, device: 'cpu', holdOnPrompt: { prompt: held, handshake: handshake.buffer as SharedArrayBuffer } },
    });
    await pool.start();
    open.push(pool);
    let finished = false;
    const result = pool.generate([greedy(held, 8)]).finally(() => {
      finished = true;
    });
    // Resolves on the worker's notify, as a callback of the main event loop ('timed-out'
    // after 30 s if the worker never holds).
    const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { value: Promise<string> | string } }).waitAsync;
    await waitAsync(handshake, 0, 0, 30_000).value;
    expect(Atomics.load(handshake, 0), 'the worker held mid-generation').toBe(1);
    expect(finished).toBe(false);
    Atomics.store(handshake, 1, 1);
    Atomics.notify(handshake, 1);
    const [row] = await result;
    expect(row!.generatedTokens).toBe(8);
    expect(row!.finishReason).toBe('length');
  });

  it('fails only the batch of a crashed worker, with a retriable WORKER_CRASHED, and keeps serving', async () => {
    const files = loadModelFiles(modelDir('tiny-llama'));
    const logs: string[] = [];
    const crash = 'CRASH THIS WORKER';
    const pool = new WorkerPool({
      modelId: files.modelId,
      workers: 2,
      maxBatchSize: 16,
      batching: 'static',
      tokenizer: new ModelTokenizer(files),
      log: (m) => logs.push(m),
      init: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: 1, device: 'cpu', crashOnPrompt: crash },
    });
    await pool.start();
    open.push(pool);
    const prompts = creakPrompts(6);
    const good = pool.generate(prompts.slice(0, 3).map((p) => greedy(p, 32)));
    const bad = pool.generate([greedy(prompts[3]!), greedy(crash)]);
    const after = pool.generate(prompts.slice(4).map((p) => greedy(p)));
    const err = await bad.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTeacherlmError(err, 'WORKER_CRASHED')).toBe(true);
    expect((err as TeacherlmError).retriable).toBe(true);
    expect(await good).toHaveLength(3);
    expect(await after).toHaveLength(2);
    // The replacement serves later batches too, with both workers busy.
    const more = await Promise.all([0, 1, 2].map(() => pool.generate(prompts.slice(0, 2).map((p) => greedy(p)))));
    expect(more.flat()).toHaveLength(6);
    expect(logs.some((l) => l.includes('replacement'))).toBe(true);
  });

  it('TEACHERLM_TEST_ENGINE_CRASH_FILE (the chaos suite\'s seam): one batch per file written dies mid-batch, the next is served', async () => {
    const flag = join(mkdtempSync(join(tmpdir(), 'engine-crash-')), 'crash');
    vi.stubEnv('TEACHERLM_TEST_ENGINE_CRASH_FILE', flag);
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), workers: 1, intraOpThreads: 1, device: 'cpu' });
    open.push(engine);
    vi.unstubAllEnvs();
    const prompts = creakPrompts(4).map((p) => greedy(p, 8));
    expect(await engine.generate(prompts)).toHaveLength(4);
    writeFileSync(flag, '');
    await expect(engine.generate(prompts)).rejects.toMatchObject({ code: 'WORKER_CRASHED', retriable: true });
    expect(existsSync(flag)).toBe(false);
    expect(await engine.generate(prompts)).toHaveLength(4);
  });

  it('batching continuously, fails every call the crashed worker held; isolated retries run apart, so only the poisoned call fails again', async () => {
    const files = loadModelFiles(modelDir('tiny-llama'));
    const crash = 'CRASH THIS WORKER';
    const pool = new WorkerPool({
      modelId: files.modelId,
      workers: 1,
      maxBatchSize: 16,
      batching: 'continuous',
      tokenizer: new ModelTokenizer(files),
      log: () => {},
      init: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: 1, device: 'cpu', crashOnPrompt: crash },
    });
    await pool.start();
    open.push(pool);
    expect(pool.continuousRows).toBe(16);
    const prompts = creakPrompts(3);
    const innocent = pool.generate([greedy(prompts[0]!, 16)]);
    const poisoned = pool.generate([greedy(crash)]);
    const outcomes = await Promise.allSettled([innocent, poisoned]);
    for (const o of outcomes) expect(o.status === 'rejected' && isTeacherlmError(o.reason, 'WORKER_CRASHED')).toBe(true);
    await vi.waitFor(() => expect(pool.continuousRows).toBe(16), { timeout: 30_000 });
    const retries = await Promise.allSettled([pool.generate([greedy(crash)], { isolated: true }), pool.generate([greedy(prompts[0]!, 16)], { isolated: true })]);
    expect(retries[0]!.status).toBe('rejected');
    expect(retries[1]!.status).toBe('fulfilled');
  });

  it('validates options at the boundary, naming the field', async () => {
    await expect(createEngine({ modelDir: modelDir('tiny-llama'), workers: 0 })).rejects.toThrow(/workers/);
    await expect(createEngine({ modelDir: modelDir('tiny-llama'), device: 'tpu' as never })).rejects.toThrow(/device/);
    await expect(createEngine({ modelDir: modelDir('nope') })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), intraOpThreads: 1 });
    open.push(engine);
    await expect(engine.generate([{ prompt: 'x', options: { maxNewTokens: 0, temperature: 0 } }])).rejects.toThrow(/requests\[0\]\.options\.maxNewTokens/);
    await expect(engine.generate([{ prompt: 'x', options: { maxNewTokens: 4, temperature: -1 } }])).rejects.toThrow(/temperature/);
    expect(await engine.generate([])).toEqual([]);
  });

  it('rejects pending work after close, and close is idempotent', async () => {
    const engine = await createEngine({ modelDir: modelDir('tiny-llama'), intraOpThreads: 1 });
    const pending = engine.generate(creakPrompts(4).map((p) => greedy(p, 200)));
    const queued = engine.generate(creakPrompts(4).map((p) => greedy(p, 200)));
    const outcomes = Promise.allSettled([pending, queued]);
    await engine.close();
    await engine.close();
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'SHUT_DOWN' });
    }
    await expect(engine.generate([greedy('x')])).rejects.toMatchObject({ code: 'SHUT_DOWN' });
  });
});
