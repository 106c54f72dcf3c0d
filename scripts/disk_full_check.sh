#!/usr/bin/env bash
# A real full disk: retort convert into a 1 MiB tmpfs must fail with one line naming OUT ("No space
# left on device"), leave nothing in the file system (no output, no temporary file), keep an existing
# OUT as it was, and leave the input unchanged. Needs root for the mount; skipped (exit 0) without it.
#
#   scripts/disk_full_check.sh [RETORT]     (default .build/release/retort)
set -euo pipefail
cd "$(dirname "$0")/.."
retort=$(readlink -f "${1:-.build/release/retort}")
work=$(mktemp -d)
full=$work/full
mkdir "$full"
if ! mount -t tmpfs -o size=1m tmpfs "$full" 2>/dev/null; then
  echo "disk_full_check: cannot mount a tmpfs here (needs root): skipped" >&2
  rm -rf "$work"
  exit 0
fi
trap 'umount "$full"; rm -rf "$work"' EXIT

# A 4 MiB safetensors file of random bytes (incompressible, so the .stz does not fit either).
python3 - "$work/big.safetensors" <<'PY'
import json, os, struct, sys
n = 4 << 20
header = json.dumps({"data": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}, separators=(",", ":")).encode()
header += b" " * (-len(header) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + os.urandom(n))
PY
before=$(sha256sum "$work/big.safetensors" | cut -d' ' -f1)
status=0
fail() { echo "disk_full_check: $*" >&2; status=1; }
for out in out.safetensors out.stz; do
  set +e
  "$retort" convert "$work/big.safetensors" "$full/$out" 2>"$work/err"
  code=$?
  set -e
  [ $code = 1 ] || fail "$out: exit $code, expected 1"
  grep -q "^retort: error: $full/$out: write failed: No space left on device" "$work/err" || fail "$out: stderr: $(cat "$work/err")"
  [ -z "$(ls -A "$full")" ] || fail "$out: left behind: $(ls -A "$full")"
done
# An existing output, replaced with --force, stays as it was when the new one does not fit.
echo keep >"$full/out.safetensors"
set +e
"$retort" convert --force "$work/big.safetensors" "$full/out.safetensors" 2>"$work/err"
set -e
[ "$(cat "$full/out.safetensors")" = keep ] || fail "--force: the existing output changed"
[ "$(ls -A "$full")" = out.safetensors ] || fail "--force: left behind: $(ls -A "$full")"
[ "$(sha256sum "$work/big.safetensors" | cut -d' ' -f1)" = "$before" ] || fail "the input changed"
[ $status = 0 ] && echo "disk_full_check: full disk handled: one line naming the output, nothing left, input unchanged" >&2
exit $status
