/**
 * The CPU flags that decide which matrix kernels ONNX Runtime can use (AVX-512, VNNI,
 * AMX), read from /proc/cpuinfo: bench:engine reports them with every result and a
 * layout tuning is keyed by them, since the best layout depends on the kernels.
 */
import { readFileSync } from 'node:fs';

export const MATRIX_CPU_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8'] as const;

/** The first processor's model name and the matrix flags it has (in MATRIX_CPU_FLAGS order); none without /proc/cpuinfo. */
export function readCpu(cpuinfo: string | null = readCpuinfo()): { model: string | undefined; flags: string[] } {
  if (cpuinfo === null) return { model: undefined, flags: [] };
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim();
  const have = new Set(/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
  return { model, flags: MATRIX_CPU_FLAGS.filter((f) => have.has(f)) };
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}
