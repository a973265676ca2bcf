"""The int8 model the importer writes with --int8 (onnx/model_buffered_int8.onnx), chosen
with tools/models/int8_experiment.py (README "Teacher models" has its table):

  - every linear of every layer int8, one symmetric scale per output channel, on ONNX
    Runtime's integer GEMM (MatMulInteger, u8s8: MLAS picks AVX2, AVX-512 VNNI or AMX
    kernels from the CPU's flags when the session starts);
  - activations rounded per row (token) over the row's range, in the graph: the rounding
    DynamicQuantizeMatMul gives a single token, but a row's result never depends on the
    other rows of its batch;
  - SmoothQuant scales (alpha ALPHA) folded into the RMSNorm weights, up_proj and v_proj
    (int8_calibrate.smooth: exact in fp32), calibrated on CALIBRATION below;
  - the LM head int8 as well, with each row's HEAD_EXACT_TOP highest logits recomputed in
    fp32 from the tied embedding table, so greedy decoding picks fp32's choice for the
    body's output wherever it is among them (the other logits stay int8);
  - each row's zero point taken out of the integer sums in fp32, after the GEMM's own
    scaling (ZERO_POINT_TERM), in two passes over the output instead of five.
"""
from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

import int8_calibrate as cal
from onnx_decoder import LlamaSpec, build_llama
from onnx_int8 import Int8Options

ALPHA = 0.5
# The mixed decompositions int8_experiment.py measured (README "int8"), off: none reaches 98%
# agreement at a speed above fp32. OUTLIERS: input channels per linear kept fp32; GROUPS > 0:
# activation ranges per row and group of channels sorted by magnitude; WEIGHT_LEVELS 2:
# W ~ s1 * Q1 + s2 * Q2.
OUTLIERS = 0
GROUPS = 0
WEIGHT_LEVELS = 1
GROUP_LAYOUT = "loop"  # Int8Options.group_layout: same rounding, other graphs (README "int8")
# Int8Options.activations: "row_symmetric" runs faster and agreed less (README "int8 on CPUs without VNNI").
ACTIVATIONS = "row"
# > 0: the LM head int8 too, its HEAD_EXACT_TOP highest logits per row recomputed in fp32
# (Int8Options.head_exact_top); 0: the LM head fp32. The fp32 head was the largest op of an
# int8 step (a quarter of it at batch 16 on AMX); 16 kept the top-1 agreement (docs/int8.md).
HEAD_EXACT_TOP = 16
# Int8Options.zero_point_term: "int32" (an exact integer Sub; five passes over the output) or
# "fp32" (in the GEMM's epilogue and one rank-1 Gemm: two passes; the same agreement, faster).
ZERO_POINT_TERM = "fp32"
# Int8Options.activation_levels: 2 rounds each row and its residual (docs/int8.md), off.
ACTIVATION_LEVELS = 1

# TeacherLM-shaped prompts, raw and in SmolLM2's chat template (the engine's two prompt
# styles); written for calibration, not taken from any evaluation set.
_QUESTIONS = [
    "Q: Determine the correctness of the following sentence. A violin has four strings. (A) True (B) False A: The answer is (A).",
    "Q: Determine the correctness of the following sentence. Penguins live mostly at the North Pole. (A) True (B) False A: The answer is (B).",
    "Q: Which gas do plants take in to make sugar? (A) oxygen (B) carbon dioxide (C) helium A: The answer is (B).",
    "Q: Determine the correctness of the following sentence. The Nile flows through Egypt. (A) True (B) False A: The answer is (A).",
    "Q: Determine the correctness of the following sentence. A week has nine days. (A) True (B) False A: The answer is (B).",
    "Q: What do you need to boil water at sea level? (A) 100 degrees Celsius (B) 40 degrees Celsius A: The answer is (A).",
]
_SUFFIXES = [" Let's think step by step.", " The common mistakes are:",
             " We can get the answer to this question by understanding the following fundamentals:"]
CALIBRATION = [q + s for q, s in zip(_QUESTIONS, _SUFFIXES * 2)] + [
    f"<|im_start|>user\n{q}{s}<|im_end|>\n<|im_start|>assistant\n" for q, s in zip(_QUESTIONS, reversed(_SUFFIXES * 2))
]


def build_int8(spec: LlamaSpec, weights: dict, tokenizer_path: Path, *, outliers: int = OUTLIERS,
               groups: int = GROUPS, weight_levels: int = WEIGHT_LEVELS, group_layout: str = GROUP_LAYOUT,
               weight_type: str = "s8", activations: str = ACTIVATIONS, head_exact_top: int = HEAD_EXACT_TOP,
               zero_point_term: str = ZERO_POINT_TERM, activation_levels: int = ACTIVATION_LEVELS,
               one_level_linears: tuple[str, ...] = ()):
    smoothed, opts = int8_plan(spec, weights, tokenizer_path, outliers=outliers, groups=groups, weight_levels=weight_levels,
                               group_layout=group_layout, weight_type=weight_type, activations=activations,
                               head_exact_top=head_exact_top, zero_point_term=zero_point_term,
                               activation_levels=activation_levels, one_level_linears=one_level_linears)
    return build_llama(spec, smoothed, buffered=True, int8=opts)


def int8_plan(spec: LlamaSpec, weights: dict, tokenizer_path: Path, *, outliers: int = OUTLIERS,
              groups: int = GROUPS, weight_levels: int = WEIGHT_LEVELS, group_layout: str = GROUP_LAYOUT,
              weight_type: str = "s8", activations: str = ACTIVATIONS,
              head_exact_top: int = HEAD_EXACT_TOP, zero_point_term: str = ZERO_POINT_TERM,
              activation_levels: int = ACTIVATION_LEVELS, one_level_linears: tuple[str, ...] = ()) -> tuple[dict, Int8Options]:
    """The smoothed weights and the Int8Options build_int8 builds from; the keywords pick a
    mixed decomposition (the defaults: the importer's file)."""
    tok = Tokenizer.from_file(str(tokenizer_path))
    prompts = [tok.encode(text).ids for text in CALIBRATION]
    stats = cal.activation_stats(spec, weights, prompts)
    smoothed = cal.smooth(spec, weights, stats, ALPHA)
    channels: dict = {}
    grouped: dict = {}
    if outliers or groups:
        smoothed_stats = cal.activation_stats(spec, smoothed, prompts)  # what the int8 linears see
        channels = cal.pick_outliers(smoothed_stats, outliers)
        grouped = cal.sorted_groups(smoothed_stats, groups, channels) if groups else {}
    return smoothed, Int8Options(activations=activations, outliers=channels, groups=grouped, weight_levels=weight_levels,
                                 group_layout=group_layout, weight_type=weight_type,
                                 head=head_exact_top > 0, head_exact_top=head_exact_top, zero_point_term=zero_point_term,
                                 activation_levels=activation_levels, one_level_linears=one_level_linears)
