import { describe, expect, it } from 'vitest';
import type { Encoded } from '../../src/pipeline/items.js';
import { PendingOutputs } from '../../src/pipeline/pending-outputs.js';
import { sourceRecord } from './fakes.js';

const encoded = (offset: number, partition = 0): Encoded => ({
  record: sourceRecord(offset, 'x', partition),
  kind: 'augmented',
  out: { topic: 'out', key: `k${offset}`, value: Buffer.from('v'), headers: {} },
});

describe('PendingOutputs', () => {
  it('gives the outputs below a watermark in offset order, whatever order they completed in, until released', () => {
    const pending = new PendingOutputs();
    for (const offset of [3, 0, 2, 1, 5]) pending.add(encoded(offset));
    pending.add(encoded(0, 1));
    expect(pending.size).toBe(6);
    expect(pending.below('in', 0, '4').map((e) => e.record.offset)).toEqual(['0', '1', '2', '3']);
    pending.release('in', 0, '4');
    expect(pending.size).toBe(2);
    expect(pending.below('in', 0, '10').map((e) => e.record.offset)).toEqual(['5']);
    pending.drop([{ topic: 'in', partition: 1 }]);
    expect(pending.size).toBe(1);
    expect(pending.below('in', 1, '10')).toEqual([]);
  });
});
