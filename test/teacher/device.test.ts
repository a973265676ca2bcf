import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cudaUnavailableReason, openSession } from '../../src/teacher/device.js';
import { isTeacherlmError } from '../../src/errors.js';
import { onnxPathFor } from '../../src/teacher/model-files.js';
import { modelDir } from './support/models.js';

const onnx = onnxPathFor(modelDir('tiny-llama'));

/** ORT as seen through its public surface, with CUDA "present" but failing to start. */
function ortWithBrokenCuda(): typeof ort {
  return {
    ...ort,
    listSupportedBackends: () => [
      { name: 'cpu', bundled: true },
      { name: 'cuda', bundled: true },
    ],
    InferenceSession: {
      create: (path: string, options: ort.InferenceSession.SessionOptions) =>
        options.executionProviders?.includes('cuda')
          ? Promise.reject(new Error('libcudart.so.12: cannot open shared object file'))
          : ort.InferenceSession.create(path, options),
    },
  } as unknown as typeof ort;
}

describe('openSession', () => {
  it('auto falls back to the CPU when CUDA fails to start, and says why', async () => {
    const opened = await openSession(onnx, { device: 'auto', intraOpThreads: 1 }, ortWithBrokenCuda());
    expect(opened.provider).toBe('cpu');
    expect(opened.fallbackReason).toContain('libcudart.so.12');
    expect(opened.session.inputNames).toContain('input_ids');
  });

  it('fails with DEVICE_UNAVAILABLE and a hint when cuda is required but fails', async () => {
    const err = await openSession(onnx, { device: 'cuda', intraOpThreads: 1 }, ortWithBrokenCuda()).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'DEVICE_UNAVAILABLE')).toBe(true);
    expect((err as { hint?: string }).hint).toMatch(/CUDA/);
  });

  it('on this machine: auto runs where it can, and cuda is refused exactly when auto falls back', async () => {
    const reason = cudaUnavailableReason(ort);
    const auto = await openSession(onnx, { device: 'auto', intraOpThreads: 1 });
    const cuda = () => openSession(onnx, { device: 'cuda', intraOpThreads: 1 });
    if (auto.provider === 'cuda') {
      // A CUDA host: nothing said CUDA was missing, auto did not fall back, cuda opens too.
      expect(reason).toBeUndefined();
      expect(auto.fallbackReason).toBeUndefined();
      expect((await cuda()).provider).toBe('cuda');
    } else {
      expect(auto.provider).toBe('cpu');
      // Either known missing before trying, or tried and failed to start.
      if (reason === undefined) expect(auto.fallbackReason).toMatch(/^CUDA execution provider failed to start: /);
      else expect(auto.fallbackReason).toBe(reason);
      await expect(cuda()).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    }
    const cpu = await openSession(onnx, { device: 'cpu', intraOpThreads: 1 });
    expect(cpu.provider).toBe('cpu');
    expect(cpu.fallbackReason).toBeUndefined();
  });
});
