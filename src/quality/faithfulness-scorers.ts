/**
 * The continuation scorers the stream's gate needs for `quality.checks.faithfulness`: one
 * per engine that writes chains of thought, on that teacher's model, keyed like the
 * engines. None when the check is off, so a topology without it starts nothing more.
 */
import { TeacherlmError } from '../errors.js';
import { engineKeyOf } from '../pipeline/teacher-bindings.js';
import type { Topology } from '../pipeline/topology.js';
import { createContinuationScorer, type ContinuationScorer } from '../teacher/continuation-scorer.js';

export async function createFaithfulnessScorers(topology: Topology): Promise<Map<string, ContinuationScorer>> {
  const scorers = new Map<string, ContinuationScorer>();
  if (topology.quality?.checks.faithfulness !== true) return scorers;
  try {
    for (const teacher of topology.teachers.filter((t) => t.annotation === 'cot')) {
      if (teacher.kind !== 'onnx') {
        throw new TeacherlmError('INVALID_TOPOLOGY', `quality.checks.faithfulness: the cot teacher is of kind ${teacher.kind}; the check scores with an onnx teacher's model`);
      }
      const key = engineKeyOf(teacher);
      if (scorers.has(key)) continue;
      const device = topology.engine.device;
      scorers.set(key, await createContinuationScorer({ modelDir: teacher.model, device, intraOpThreads: 1 }));
    }
  } catch (err) {
    await Promise.allSettled([...scorers.values()].map((s) => s.close()));
    throw err;
  }
  return scorers;
}
