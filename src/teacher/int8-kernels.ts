/**
 * Which of the importer's two int8 files gives exact integer sums on this CPU
 * (tools/models/cpu_kernels.py decides the same for the tools).
 *
 * ONNX Runtime's MLAS runs MatMulInteger with int8 weights (u8s8) on VNNI or AMX where the
 * CPU has them. Without them, on AVX2 or AVX-512 without VNNI, its u8s8 kernel adds pairs of
 * products in saturating int16 (vpmaddubsw) and clips large sums: the int8 file agreed with
 * fp32 on 80.1% of next tokens on an AVX2-only AMD EPYC, against 94.9% on an AVX-512 VNNI
 * Xeon. uint8 weights (zero point 128, MLAS u8u8) widen to 16 bits first: exact everywhere.
 */
export const EXACT_U8S8_FLAGS = ['avx512_vnni', 'avx_vnni', 'amx_int8'] as const;

/** The int8 file with int8 weights, and the one with uint8 weights (README "int8"). */
export const INT8_S8_FILE = 'model_buffered_int8.onnx';
export const INT8_U8_FILE = 'model_buffered_int8_u8.onnx';

/** True on x86 with AVX2 but no VNNI or AMX (flags as readCpu() gives them), where MLAS's u8s8 GEMM saturates. */
export function u8s8Saturates(flags: readonly string[]): boolean {
  return flags.includes('avx2') && !EXACT_U8S8_FLAGS.some((f) => flags.includes(f));
}
