import { lastValueFrom, of, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import { generate } from '../../src/pipeline/generate.js';
import { backoffMs } from '../../src/teacher/retry-bisect.js';
import type { GenerationTask, TaskOutcome } from '../../src/pipeline/items.js';
import { WorkerSlots } from '../../src/pipeline/worker-slots.js';
import { ScriptedGenerator, poison, tasks } from './fakes.js';

const retry = { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1_000, multiplier: 2 };

/** Runs batches through generate in fake time; returns outcomes by prompt. */
async function runBatches(generator: ScriptedGenerator, batches: GenerationTask[][], policy = retry, perTask = false) {
  const size = perTask ? batches.flat().length : batches.length;
  const slots = new WorkerSlots(size);
  for (let i = 0; i < size; i++) slots.tryAcquire();
  const done = lastValueFrom(of(...batches).pipe(generate({ generator, retry: policy, slots, perTask }), toArray()));
  await vi.runAllTimersAsync();
  const outcomes = await done;
  expect(slots.available).toBe(size);
  return new Map(outcomes.map((o: TaskOutcome) => [o.task.prompt, o]));
}

describe('generate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits one outcome per task and gives the worker slot back', async () => {
    const generator = new ScriptedGenerator();
    const out = await runBatches(generator, [tasks('a', 'b', 'c')]);
    expect([...out.values()].map((o) => o.ok && o.result.text)).toEqual(['out:a', 'out:b', 'out:c']);
    expect(generator.calls).toHaveLength(1);
  });

  it('retries retriable errors with exponential backoff', async () => {
    const crash = new TeacherlmError('WORKER_CRASHED', 'worker died');
    const generator = new ScriptedGenerator((_, call) => (call <= 2 ? crash : undefined));
    const out = await runBatches(generator, [tasks('a', 'b')]);
    expect(generator.calls.map((c) => c.at)).toEqual([0, 100, 300]);
    expect(out.get('a')).toMatchObject({ ok: true, attempts: 3 });
    expect(backoffMs(retry, 5)).toBe(1_000);
  });

  it('bisects a batch with a poisoned sample and fails only that one, without retrying non-retriable errors', async () => {
    const generator = new ScriptedGenerator(poison('p'));
    const out = await runBatches(generator, [tasks('a', 'b', 'p', 'c')]);
    expect(generator.calls.map((c) => c.prompts.join(''))).toEqual(['abpc', 'ab', 'pc', 'p', 'c']);
    expect(['a', 'b', 'c'].map((k) => out.get(k)?.ok)).toEqual([true, true, true]);
    const failed = out.get('p');
    expect(failed).toMatchObject({ ok: false, attempts: 3 });
    expect(failed?.ok === false && failed.error.message).toBe('cannot generate for p');
  });

  it('retries at every level of the bisection when the error is retriable', async () => {
    const generator = new ScriptedGenerator(poison('p', true));
    const out = await runBatches(generator, [tasks('p', 'a')], { ...retry, maxAttempts: 2 });
    expect(generator.calls.map((c) => c.prompts.join(''))).toEqual(['pa', 'pa', 'p', 'p', 'a']);
    expect(out.get('p')).toMatchObject({ ok: false, attempts: 4 });
    expect(out.get('a')).toMatchObject({ ok: true, attempts: 3 });
  });

  it('makes every call after the first of a task isolated (retries and bisected halves)', async () => {
    const generator = new ScriptedGenerator(poison('p', true));
    await runBatches(generator, [tasks('p', 'a')], { ...retry, maxAttempts: 2 });
    expect(generator.calls.map((c) => c.isolated)).toEqual([false, true, true, true, true]);
  });

  it('per task (continuous batching): one engine call and one slot per task, retried alone', async () => {
    const generator = new ScriptedGenerator(poison('p'));
    const out = await runBatches(generator, [tasks('a', 'p', 'b')], retry, true);
    // No bisection: p fails alone at once (not retriable), a and b are untouched.
    expect(generator.calls.map((c) => c.prompts.join(''))).toEqual(['a', 'p', 'b']);
    expect(['a', 'b'].map((k) => out.get(k)?.ok)).toEqual([true, true]);
    expect(out.get('p')).toMatchObject({ ok: false, attempts: 1 });
  });

  it('treats a wrong number of results as a failure', async () => {
    const generator = new ScriptedGenerator();
    generator.generate = async () => [];
    const out = await runBatches(generator, [tasks('a')], { ...retry, maxAttempts: 1 });
    const a = out.get('a');
    expect(a?.ok === false && a.error.message).toMatch(/returned 0 results for 1 prompts/);
  });
});
