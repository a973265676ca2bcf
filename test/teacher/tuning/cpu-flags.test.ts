import { describe, expect, it } from 'vitest';
import { readCpu } from '../../../src/teacher/tuning/cpu-flags.js';

const CPUINFO = `processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 avx2 fma amx_int8 avx512f avx512_vnni amx_tile
bugs\t\t: spectre_v1

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu
`;

describe('readCpu', () => {
  it("keeps the first processor's matrix flags, in a fixed order, and its model name", () => {
    expect(readCpu(CPUINFO)).toEqual({ model: 'Intel(R) Xeon(R) Platinum 8480+', flags: ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'amx_int8'] });
  });

  it('reports none without /proc/cpuinfo or a flags line', () => {
    expect(readCpu(null)).toEqual({ model: undefined, flags: [] });
    expect(readCpu('processor\t: 0\n')).toEqual({ model: undefined, flags: [] });
  });
});
