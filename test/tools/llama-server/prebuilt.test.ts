import { describe, expect, it } from 'vitest';
import { prebuiltRunsOn } from '../../../tools/llama-server/prebuilt.js';
import { readCpu } from '../../../src/teacher/tuning/cpu-flags.js';

const ZEN3 = 'model name\t: AMD EPYC\nflags\t\t: fpu sse sse2 fma avx avx2 bmi2\n';
const SAPPHIRE = 'model name\t: Intel Xeon\nflags\t\t: avx2 fma avx512f avx512_vnni avx512_bf16 amx_int8\n';

describe('prebuiltRunsOn', () => {
  it('refuses an AVX2-only CPU, where the wheel\'s AVX-512 ggml library dies of SIGILL', () => {
    expect(prebuiltRunsOn(readCpu(ZEN3).flags)).toBe(false);
  });
  it('takes an AVX-512 CPU', () => {
    expect(prebuiltRunsOn(readCpu(SAPPHIRE).flags)).toBe(true);
  });
  it('refuses when the flags are unknown (no /proc/cpuinfo)', () => {
    expect(prebuiltRunsOn(readCpu(null).flags)).toBe(false);
  });
});
