import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { expand, type TeacherBinding } from '../../src/pipeline/expand.js';
import type { DecodedSample } from '../../src/pipeline/items.js';
import { buildPrompt } from '../../src/teacher/prompts.js';
import { sourceRecord, teacherSpec } from './fakes.js';

const binding = (annotation: 'fundamentals' | 'cot' | 'mistakes'): TeacherBinding => ({
  teacher: teacherSpec(annotation),
  engineKey: 'e',
  promptFor: (sample) => buildPrompt(sample, annotation, 'raw'),
  countTokens: (prompt) => prompt.split(' ').length,
});

describe('expand', () => {
  it('fans one sample out into one task per teacher, sharing one job', () => {
    const sample = { id: 's', task: 't', question: 'Is it? (A) True (B) False', answer: '(A)', context: null, metadata: {} };
    const decoded: DecodedSample = { kind: 'sample', record: sourceRecord(0), sample };
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const seen: unknown[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const out = cold('-a 10ms |', { a: decoded }).pipe(expand([binding('fundamentals'), binding('cot'), binding('mistakes')]));
      out.subscribe((t) => seen.push(t.job));
      expectObservable(out).toBe('-(fcm) 6ms |', {
        f: expect.objectContaining({ prompt: 'Q: Is it? (A) True (B) False A: The answer is (A). The fundamental of this question is:', promptTokens: 18 }),
        c: expect.objectContaining({ prompt: "Q: Is it? (A) True (B) False A: The answer is (A). Let's think step by step." }),
        m: expect.objectContaining({ prompt: 'Q: Is it? (A) True (B) False A: The answer is (A). The common mistakes are:' }),
      });
    });
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toMatchObject({ expected: 3, outcomes: [], sample });
  });

  it('errors the stream when a prompt cannot be built, instead of throwing out of the subscriber', () => {
    const broken: TeacherBinding = { ...binding('cot'), promptFor: () => { throw new Error('template failed'); } };
    const sample = { id: 's', task: 't', question: 'q', answer: 'a', context: null, metadata: {} };
    const decoded: DecodedSample = { kind: 'sample', record: sourceRecord(0), sample };
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: decoded }).pipe(expand([broken]))).toBe('-#', undefined, expect.objectContaining({
        code: 'GENERATION_FAILED',
        message: "cannot build the cot prompt of sample 's': template failed",
      }));
    });
  });
});
