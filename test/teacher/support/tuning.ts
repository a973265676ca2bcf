// A valid tuning and what it was measured for, for the tuning tests to change one field at a time.
import type { Tuning, TuningExpectation } from '../../../src/teacher/tuning/tuning-file.js';

export const expectation = (): TuningExpectation => ({
  model: { path: '/models/m/onnx/model_buffered.onnx', bytes: 1000, fingerprint: 'sha256:aa' },
  machine: { cores: 2, cpuFlags: ['avx2', 'avx512f'], device: 'cpu' },
  onnxruntime: '1.30.0',
});

export const tuningFor = (e: TuningExpectation = expectation()): Tuning => ({
  format: 1,
  tunedAt: '2026-12-01T20:00:00.000Z',
  key: '0123456789abcdef',
  machine: { ...e.machine, cpu: 'Some CPU', node: 'v20.20.2', onnxruntime: e.onnxruntime },
  model: { ...e.model },
  workload: { batchSizes: [16, 1], prompts: { '16': 32, '1': 4 }, maxNewTokens: 32, rounds: 1 },
  layouts: { '1x2': { tokensPerSec: { '16': 140, '1': 35 }, score: 70 }, '2x1': { tokensPerSec: { '16': 100, '1': 25 }, score: 50 } },
  winner: { workers: 1, intraOpThreads: 2, name: '1x2' },
  ratios: { '2x1': 1.4 },
  seconds: 40,
});
