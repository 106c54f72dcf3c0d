#!/usr/bin/env bash
# Regenerates the .stz vectors in formats/vectors/stz/ with a Retort build:
#   NAME.stz      the current container version, from formats/vectors/safetensors/NAME.safetensors
#   all_dtypes.forged_payload.stz   all_dtypes.stz with one payload byte changed behind its CRCs
#                 (scripts/make_stz_forged_vector.py): decodes, but fails the SHA-256, naming `int32`
# The NAME.v1.stz files are version 1 containers written by the version 1 writer (commit db445f2) and are
# kept as they are: they are the proof that old files still read. Each vector restores its safetensors
# vector byte for byte (the tests check it).
#
#   scripts/make_stz_vectors.sh [RETORT]     (default .build/release/retort)
set -euo pipefail
cd "$(dirname "$0")/.."
retort=${1:-.build/release/retort}
for name in all_dtypes odd_offsets; do
  "$retort" convert --force "formats/vectors/safetensors/$name.safetensors" "formats/vectors/stz/$name.stz" --threads 1
done
python3 scripts/make_stz_forged_vector.py
