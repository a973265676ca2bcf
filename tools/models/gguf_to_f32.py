"""Write an F32 copy of a GGUF (same metadata, every tensor dequantized, same layout).

llama.cpp multiplies quantized weights with activations it quantizes to 8 bits on the
fly; on an F32 GGUF it computes in fp32. verify_llamacpp.py --reference f32 uses this to
tell conversion errors from llama.cpp's own quantization noise.

  .cache/py/venv/bin/python tools/models/gguf_to_f32.py IN.gguf OUT.gguf
"""
from __future__ import annotations

import sys

import gguf
import numpy as np
from gguf.quants import dequantize


def main(src: str, dst: str) -> None:
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for f in reader.fields.values():
        if f.name == "general.architecture" or f.name.startswith("GGUF."):
            continue
        vtype = f.types[0]
        sub = f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        if f.name == "general.file_type":
            writer.add_key_value(f.name, int(gguf.LlamaFileType.ALL_F32), vtype)
            continue
        writer.add_key_value(f.name, f.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        writer.add_tensor(t.name, w.reshape([int(d) for d in reversed(t.shape)]), raw_dtype=gguf.GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
