import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseTopology } from '../../src/pipeline/topology.js';
import { createFaithfulnessScorers } from '../../src/quality/faithfulness-scorers.js';

const model = join(import.meta.dirname, '..', 'fixtures', 'models', 'tiny-llama');
const topology = (kind: 'onnx' | 'echo', faithfulness: boolean) =>
  parseTopology({
    name: 't',
    input: { topic: 'in' },
    output: { topic: 'out' },
    deadLetter: { topic: 'dlq' },
    consumer: { group: 'g' },
    teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => (kind === 'echo' ? { annotation, kind } : { annotation, kind, model })),
    quality: { checks: { faithfulness } },
  });

describe('createFaithfulnessScorers', () => {
  it('starts nothing when the check is off', async () => {
    expect((await createFaithfulnessScorers(topology('onnx', false))).size).toBe(0);
  });

  it("starts one scorer on the cot teacher's model, keyed like its engine", async () => {
    const scorers = await createFaithfulnessScorers(topology('onnx', true));
    try {
      expect([...scorers.keys()]).toEqual([`onnx:${model}`]);
      const [score] = await scorers.get(`onnx:${model}`)!.score([{ context: 'Q: Is soup a liquid? A: The answer is (', continuation: 'A' }]);
      expect(score).toBeLessThan(0);
    } finally {
      await Promise.all([...scorers.values()].map((s) => s.close()));
    }
  });

  it('refuses a cot teacher that is not an onnx model', async () => {
    await expect(createFaithfulnessScorers(topology('echo', true))).rejects.toThrow('quality.checks.faithfulness: the cot teacher is of kind echo');
  });
});
