import { describe, expect, it } from 'vitest';
import { RUN_ID_KEY, belongsTo, type DemoOutcome } from '../../src/demo/watch-results.js';
import type { AugmentedSample, DeadLetter } from '../../src/records/types.js';

const ids = new Set(['a', 'b']);
const augmented = (id: string, run?: string): DemoOutcome => ({
  kind: 'augmented',
  record: { id, metadata: run ? { [RUN_ID_KEY]: run } : {} } as unknown as AugmentedSample,
});
const dead = (sampleId: string | null, value: string | null): DemoOutcome => ({
  kind: 'dead-letter',
  record: { sampleId, value: value === null ? null : Buffer.from(value) } as unknown as DeadLetter,
});

describe('belongsTo', () => {
  it("keeps only this run's samples", () => {
    expect(belongsTo(augmented('a', 'run1'), 'run1', ids)).toBe('a');
    expect(belongsTo(augmented('a', 'run0'), 'run1', ids)).toBeUndefined();
    expect(belongsTo(augmented('a'), 'run1', ids)).toBeUndefined();
    expect(belongsTo(augmented('z', 'run1'), 'run1', ids)).toBeUndefined();
  });

  it('recognises a dead letter by its sample id and the run id in the original value', () => {
    expect(belongsTo(dead('b', `{"metadata":{"${RUN_ID_KEY}":"run1"}}`), 'run1', ids)).toBe('b');
    expect(belongsTo(dead('b', `{"metadata":{"${RUN_ID_KEY}":"run0"}}`), 'run1', ids)).toBeUndefined();
    expect(belongsTo(dead(null, 'run1'), 'run1', ids)).toBeUndefined();
    expect(belongsTo(dead('b', null), 'run1', ids)).toBeUndefined();
  });
});
