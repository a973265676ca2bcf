import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import { gather } from '../../src/pipeline/gather.js';
import type { GenerationTask, SampleJob, TaskOutcome } from '../../src/pipeline/items.js';
import { resultFor, sourceRecord, teacherSpec } from './fakes.js';

function job(id: string, offset: number): { job: SampleJob; tasks: GenerationTask[] } {
  const j: SampleJob = { record: sourceRecord(offset), sample: { id, task: 't', question: 'q', answer: 'a', context: null, metadata: { m: '1' } }, expected: 3, outcomes: [] };
  const tasks = (['fundamentals', 'cot', 'mistakes'] as const).map((a) => ({ job: j, teacher: teacherSpec(a), engineKey: 'e', prompt: `${id}-${a}`, promptTokens: 1 }));
  return { job: j, tasks };
}
const ok = (task: GenerationTask): TaskOutcome => ({ task, ok: true, result: resultFor(task.prompt), attempts: 1 });

describe('gather', () => {
  it('emits one record per sample when its last task arrives, in any order', () => {
    const a = job('a', 0);
    const b = job('b', 1);
    const failure: TaskOutcome = { task: b.tasks[1] as GenerationTask, ok: false, error: new TeacherlmError('GENERATION_FAILED', 'boom'), attempts: 4 };
    const outcomes = {
      1: ok(a.tasks[2] as GenerationTask),
      2: ok(b.tasks[0] as GenerationTask),
      3: ok(a.tasks[0] as GenerationTask),
      4: failure,
      5: ok(a.tasks[1] as GenerationTask),
      6: ok(b.tasks[2] as GenerationTask),
    };
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('123456|', outcomes).pipe(gather({ modelIds: new Map([['e', 'tiny-model']]), scheduler }));
      expectObservable(out).toBe('----AB|', {
        A: {
          kind: 'augmented',
          record: a.job.record,
          value: {
            id: 'a', task: 't', question: 'q', answer: 'a', context: null, metadata: { m: '1' },
            fundamentals: { text: 'out:a-fundamentals', modelId: 'tiny-model', promptTokens: 1, generatedTokens: 1, finishReason: 'eos', quality: null },
            chainOfThought: { text: 'out:a-cot', modelId: 'tiny-model', promptTokens: 1, generatedTokens: 1, finishReason: 'eos', quality: null },
            commonMistakes: { text: 'out:a-mistakes', modelId: 'tiny-model', promptTokens: 1, generatedTokens: 1, finishReason: 'eos', quality: null },
            source: { topic: 'in', partition: 0, offset: 0 }, sourceTimestamp: 1700000000000, augmentedAt: 4,
          },
        },
        B: {
          kind: 'dead-letter',
          record: b.job.record,
          value: expect.objectContaining({ errorCode: 'GENERATION_FAILED', errorMessage: 'boom', stage: 'generate', attempts: 4, sampleId: 'b', value: null, failedAt: 5 }),
        },
      });
    });
  });
});
