"""Writes int8_recipe's graph with other choices into a model folder's onnx/, to check a
variant of int8_experiment.py through ONNX Runtime (quant_agreement.py, int8_speed.py):

  .cache/py/venv/bin/python tools/models/int8_build.py --model DIR --file model_buffered_int8_k32.onnx \
      --outliers 32 --groups 0 --weight-levels 2
  ... --file model_buffered_int8_o16_g8_batched.onnx --outliers 16 --groups 8 --weight-levels 2 --group-layout batched
  ... --file model_buffered_int8_sym.onnx --weight-type u8 --activations row_symmetric
  ... --file model_buffered_int8_head16.onnx --head-exact-top 16
  ... --file model_buffered_int8_fp32zp.onnx --head-exact-top 16 --zero-point-term fp32
  ... --file model_buffered_int8_a2w2.onnx --activation-levels 2 --weight-levels 2
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import onnx
from gguf import GGUFReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_gguf as ig  # noqa: E402
import int8_recipe  # noqa: E402
from int8_experiment import GGUF  # noqa: E402
from onnx_int8 import GROUP_LAYOUTS, ROW_ACTIVATIONS, WEIGHT_TYPES, ZERO_POINT_TERMS  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a model folder of our own (its tokenizer.json; onnx/ is written)")
    p.add_argument("--gguf", default=str(GGUF))
    p.add_argument("--file", required=True, help="the file name under onnx/")
    p.add_argument("--outliers", type=int, default=int8_recipe.OUTLIERS)
    p.add_argument("--groups", type=int, default=int8_recipe.GROUPS)
    p.add_argument("--weight-levels", type=int, choices=(1, 2), default=int8_recipe.WEIGHT_LEVELS)
    p.add_argument("--group-layout", choices=GROUP_LAYOUTS, default=int8_recipe.GROUP_LAYOUT,
                   help="the grouped linears' graph (Int8Options.group_layout); the rounding is the same")
    p.add_argument("--weight-type", choices=WEIGHT_TYPES, default="s8",
                   help="MatMulInteger's weights (Int8Options.weight_type): s8 (u8s8 kernels) or u8 (u8u8), the same sums; s7 (u8s8, 7 bits)")
    p.add_argument("--activations", choices=ROW_ACTIVATIONS, default=int8_recipe.ACTIVATIONS,
                   help="how each row is rounded (Int8Options.activations): over its [min, max], or symmetric with zero point 128")
    p.add_argument("--head-exact-top", type=int, default=int8_recipe.HEAD_EXACT_TOP,
                   help="> 0: the LM head int8 too, this many highest logits per row recomputed in fp32 (Int8Options.head_exact_top)")
    p.add_argument("--zero-point-term", choices=ZERO_POINT_TERMS, default=int8_recipe.ZERO_POINT_TERM,
                   help="how the rows' zero points leave the integer sums (Int8Options.zero_point_term)")
    p.add_argument("--activation-levels", type=int, choices=(1, 2), default=int8_recipe.ACTIVATION_LEVELS,
                   help="2: each row rounded twice, the second time its residual (Int8Options.activation_levels)")
    p.add_argument("--one-level-linears", default="", help="with --weight-levels 2: comma-separated name suffixes that keep one level (mlp.gate_proj,mlp.up_proj)")
    args = p.parse_args()
    reader = GGUFReader(args.gguf)
    n_head, n_kv = ig.head_counts(reader)
    weights = ig.read_weights(reader, n_head, n_kv)
    spec = ig.llama_spec(reader, weights)
    folder = Path(args.model)
    model = int8_recipe.build_int8(spec, weights, folder / "tokenizer.json", outliers=args.outliers, groups=args.groups,
                                   weight_levels=args.weight_levels, group_layout=args.group_layout,
                                   weight_type=args.weight_type, activations=args.activations,
                                   head_exact_top=args.head_exact_top, zero_point_term=args.zero_point_term,
                                   activation_levels=args.activation_levels,
                                   one_level_linears=tuple(x for x in args.one_level_linears.split(",") if x))
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "onnx" / args.file))


if __name__ == "__main__":
    main()
