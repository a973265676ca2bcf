"""Which int8 weight type gives exact integer sums on this CPU (src/teacher/int8-kernels.ts
decides the same for the engine, from the same flags).

ONNX Runtime's MLAS runs MatMulInteger with int8 weights (u8s8) on VNNI or AMX where the CPU
has them, exact in int32. Without them, on AVX2 or AVX-512 without VNNI, its u8s8 kernel adds
pairs of u8*s8 products in saturating int16 (vpmaddubsw), so large sums are clipped: the
importer's int8 file agreed with fp32 on 80.1% of next tokens on an AMD EPYC (Zen 3, AVX2
only) against 94.9% on an AVX-512 VNNI Xeon. Its u8u8 kernel (uint8 weights, zero point 128)
widens to 16 bits first and is exact everywhere.
"""
from __future__ import annotations

import re
from pathlib import Path

EXACT_U8S8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    m = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M)
    return set(m.group(1).split()) if m else set()


# The flags the tools report beside a figure: what decides which GEMM kernels MLAS runs.
REPORTED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def reported_cpu_flags(extra: tuple[str, ...] = ()) -> list[str]:
    """This CPU's REPORTED_FLAGS (and `extra`), sorted, for a tool's JSON."""
    return sorted(cpu_flags() & {*REPORTED_FLAGS, *extra})


def u8s8_saturates(flags: set[str] | None = None) -> bool:
    """True on x86 with AVX2 but no VNNI or AMX, where MLAS's u8s8 GEMM saturates."""
    flags = cpu_flags() if flags is None else flags
    return "avx2" in flags and not any(f in flags for f in EXACT_U8S8_FLAGS)


def int8_weight_type(flags: set[str] | None = None) -> str:
    """Int8Options.weight_type with exact sums on this CPU: "u8" where u8s8 saturates, else "s8"."""
    return "u8" if u8s8_saturates(flags) else "s8"
