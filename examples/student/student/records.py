"""AugmentedSample records as the pipeline writes them: Avro single-object encoding
(``C3 01``, the writer schema's 8-byte CRC-64-AVRO fingerprint, the Avro body), decoded
with the project's schemas (``schemas/augmented-sample.avsc`` and its history)."""
import io
import json
import pathlib

import fastavro
from fastavro.schema import parse_schema, to_parsing_canonical_form

MAGIC = b"\xc3\x01"
SCHEMAS = pathlib.Path(__file__).resolve().parents[3] / "schemas"

_EMPTY = 0xC15D213AA4D7A795
_TABLE = []
for _i in range(256):
    _fp = _i
    for _ in range(8):
        _fp = (_fp >> 1) ^ (_EMPTY & -(_fp & 1))
    _TABLE.append(_fp & 0xFFFFFFFFFFFFFFFF)


def rabin_fingerprint(canonical):
    fp = _EMPTY
    for byte in canonical.encode("utf-8"):
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp.to_bytes(8, "little")


class AugmentedDecoder:
    """Decodes AugmentedSample records written with the current schema or any in its history."""

    def __init__(self, schemas_dir=SCHEMAS):
        paths = [schemas_dir / "augmented-sample.avsc", *sorted((schemas_dir / "history").glob("augmented-sample.*.avsc"))]
        self.reader = parse_schema(json.loads(paths[0].read_text()))
        self.writers = {}
        for path in paths:
            schema = parse_schema(json.loads(path.read_text()))
            self.writers[rabin_fingerprint(to_parsing_canonical_form(schema))] = schema

    def decode(self, value):
        if value is None or len(value) < 10 or value[:2] != MAGIC:
            raise ValueError("not an Avro single-object record")
        writer = self.writers.get(value[2:10])
        if writer is None:
            raise ValueError(f"unknown writer schema {value[2:10].hex()}: not an AugmentedSample")
        return fastavro.schemaless_reader(io.BytesIO(value[10:]), writer, self.reader)
