import { describe, expect, it } from 'vitest';
import { describeQuality } from '../../src/quality/describe-counts.js';
import { emptyQualityCounts } from '../../src/quality/gate.js';

describe('describeQuality', () => {
  it('says what the gate counted in one line, trimmed annotations and rejections included', () => {
    expect(describeQuality(emptyQualityCounts())).toBe('0 checked, 0 passed, 0 regenerations');
    const counts = { ...emptyQualityCounts(), checked: 72, passed: 60, regenerations: 20, repaired: { trimmed: 41 }, failedByCheck: { contradiction: 12 }, dropped: 12 };
    expect(describeQuality(counts)).toBe('72 checked, 60 passed, 20 regenerations, 41 trimmed; failed: contradiction 12; 12 dropped');
  });
});
