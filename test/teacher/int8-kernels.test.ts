import { describe, expect, it } from 'vitest';
import { u8s8Saturates } from '../../src/teacher/int8-kernels.js';
import { readCpu } from '../../src/teacher/tuning/cpu-flags.js';

const cpu = (flags: string) => readCpu(`model name\t: x\nflags\t\t: ${flags}\n`).flags;

describe('u8s8Saturates', () => {
  it('is true on AVX2 and on AVX-512 without VNNI (MLAS adds u8*s8 pairs in saturating int16 there)', () => {
    expect(u8s8Saturates(cpu('fpu sse2 fma avx avx2'))).toBe(true);
    expect(u8s8Saturates(cpu('fma avx2 avx512f avx512bw'))).toBe(true);
  });
  it('is false with AVX-512 VNNI, AVX-VNNI or AMX-INT8, and where the CPU is not known', () => {
    expect(u8s8Saturates(cpu('fma avx2 avx512f avx512_vnni'))).toBe(false);
    expect(u8s8Saturates(cpu('fma avx2 avx_vnni'))).toBe(false);
    expect(u8s8Saturates(cpu('fma avx2 avx512f amx_int8'))).toBe(false);
    expect(u8s8Saturates(readCpu(null).flags)).toBe(false);
  });
});
