import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureModels } from '../../src/demo/ensure-model.js';
import { TeacherlmError } from '../../src/errors.js';
import type { Topology } from '../../src/pipeline/topology.js';

const root = '/project';
const smollm2 = join(root, 'models/smollm2-135m-instruct');

function topologyWith(...models: [kind: 'onnx' | 'echo', model: string][]): Topology {
  return { teachers: models.map(([kind, model]) => ({ kind, model })) } as unknown as Topology;
}

describe('ensureModels', () => {
  it('imports the default model when its folder does not load, once for all teachers', async () => {
    const present = new Set<string>();
    const imports: string[] = [];
    const imported = await ensureModels(topologyWith(['onnx', smollm2], ['onnx', smollm2], ['echo', 'echo']), {
      root,
      log: () => {},
      load: (dir) => {
        if (!present.has(dir)) throw new TeacherlmError('MODEL_INVALID', `model folder not found: ${dir}`);
      },
      importer: async (name) => {
        imports.push(name);
        present.add(smollm2);
      },
    });
    expect(imported).toEqual(['smollm2']);
    expect(imports).toEqual(['smollm2']);
  });

  it('does nothing when the models load, and fails for a missing model it cannot import', async () => {
    const options = { root, log: () => {}, importer: async () => expect.fail('no import expected') };
    await expect(ensureModels(topologyWith(['onnx', smollm2]), { ...options, load: () => ({}) })).resolves.toEqual([]);
    const missing = () => {
      throw new TeacherlmError('MODEL_INVALID', 'model folder not found: /elsewhere');
    };
    await expect(ensureModels(topologyWith(['onnx', '/elsewhere']), { ...options, load: missing })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });
});
