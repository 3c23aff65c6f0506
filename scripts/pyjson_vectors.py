#!/usr/bin/env python3
"""Float and JSON text vectors for sn17-storage's pyjson module.

Needs CPython 3 and pydantic 2 (the formatter 404's services use for their JSON files):
    python3 scripts/pyjson_vectors.py > storage/tests/fixtures/pyjson_vectors.json
"""
import json
import random
import struct
import sys

import pydantic
import pydantic_core
from pydantic import TypeAdapter


def main():
    rng = random.Random(17)
    floats = [0.0, -0.0, 1.0, 0.1, 0.2 + 0.1, 1e-4, 1e-5, 1e-6, 9.999e15, 1e16, 1e22, 5e-324, 1.7976931348623157e308,
              0.6000000000000001, 0.4000000000000001, 0.20000000000000007, -0.0859375, 0.0546875, 12.364800365001429]
    for _ in range(1500):
        bits = rng.getrandbits(64)
        f = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if f == f and f not in (float("inf"), float("-inf")):
            floats.append(f)
    for e in range(-30, 30):
        floats.append(rng.random() * 10.0 ** e)
        floats.append(-(10.0 ** e))
    fa = TypeAdapter(float)
    out = {
        "python": sys.version.split()[0],
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
        "floats": [{"bits": struct.unpack("<Q", struct.pack("<d", f))[0], "repr": repr(f),
                    "pydantic": fa.dump_json(f).decode()} for f in floats],
    }
    doc = {"a": [1.0, {"b": 2, "c": None}], "e": [], "o": {}, "s": "é\u001f\t\"\\/ \u2028 \U0001F600 \x7f",
           "n": [-1, 0, 2**40], "f": [0.1, 1e-7, 2.5e-5, 1e16]}
    out["doc"] = {"value_json": json.dumps(doc), "pretty": TypeAdapter(dict).dump_json(doc, indent=2).decode(),
                  "compact": TypeAdapter(dict).dump_json(doc).decode(), "dumps": json.dumps(doc)}
    json.dump(out, sys.stdout, indent=0)


if __name__ == "__main__":
    main()
