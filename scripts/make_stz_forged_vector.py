#!/usr/bin/env python3
"""Writes formats/vectors/stz/all_dtypes.forged_payload.stz: formats/vectors/stz/all_dtypes.stz with one
byte of the tensor `int32`'s stored (mode 0) stream flipped, and that chunk's CRC-32 and the header's
CRC-32 recomputed, so that the container opens and every chunk decodes, yet restores other bytes than
the original's. Only the SHA-256 check catches it; the per-tensor `data_crc32` then names `int32`.

    python3 scripts/make_stz_forged_vector.py      (run by scripts/make_stz_vectors.sh)
"""
import json
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "formats/vectors/stz/all_dtypes.stz"
TARGET = ROOT / "formats/vectors/stz/all_dtypes.forged_payload.stz"
TENSOR = "int32"

data = bytearray(SOURCE.read_bytes())
assert data[8:12] == struct.pack("<I", 2), "expects a version 2 container"
header_offset, header_length, header_crc = struct.unpack("<QQI", data[-28:-8])
header_text = data[header_offset:header_offset + header_length].decode("utf-8")
assert zlib.crc32(header_text.encode("utf-8")) == header_crc
header = json.loads(header_text)
assert "data_crc32" in header[TENSOR], "regenerate all_dtypes.stz with a writer that records data_crc32"
offset, stored, raw, crc = header[TENSOR]["chunks"][0]
assert zlib.crc32(data[offset:offset + stored]) == crc

# Walk the chunk's stream table to the first stored (mode 0) stream and flip its first byte's low bit:
# a stored stream decodes whatever its bytes are.
streams = data[offset]
cursor = offset + 1 + 5 * streams
for k in range(streams):
    mode, length = struct.unpack("<BI", data[offset + 1 + 5 * k:offset + 6 + 5 * k])
    if mode == 0 and length > 0:
        data[cursor] ^= 1
        break
    cursor += length
else:
    raise SystemExit(f"tensor {TENSOR}'s first chunk has no stored stream")

new_crc = zlib.crc32(data[offset:offset + stored])
old_entry = f"[{offset},{stored},{raw},{crc}]"
assert header_text.count(old_entry) == 1
new_header = header_text.replace(old_entry, f"[{offset},{stored},{raw},{new_crc}]").encode("utf-8")
footer = struct.pack("<QQI", header_offset, len(new_header), zlib.crc32(new_header)) + b"RTSTZEND"
TARGET.write_bytes(bytes(data[:header_offset]) + new_header + footer)
print(f"wrote {TARGET.relative_to(ROOT)}: tensor {TENSOR}, byte {cursor} flipped, chunk CRC {crc} -> {new_crc}")
