#!/usr/bin/env bash
# A sharded `retort distill` or `retort fidelity` on Slurm: submit N array tasks, wait for them, merge.
#
#   scripts/slurm/sharded.sh distill N OUT MODEL --network NET --task TASK [distill options]
#   scripts/slurm/sharded.sh fidelity N OUT MODEL --network NET --task TASK --surrogate F… [fidelity options]
#
# Writes the shards to OUT.shards/shard-I-of-N (their Slurm logs beside them) and then, with
# `retort merge`, into OUT exactly the files one `retort distill|fidelity … --out OUT` writes (an
# existing OUT of an earlier run is replaced only with MERGE_OPTIONS=--force). Extra sbatch options
# (partition, account, time, --cpus-per-task…) go in SBATCH_OPTIONS, e.g.
# SBATCH_OPTIONS="--partition=short --time=1:00:00".
# RETORT names the retort binary (default: retort on PATH); the array tasks get it as well.
#
# A prompt task's `fidelity --representation` runs in two phases (formats/task.md, "Shard files"):
# when the first array's shards hold localisation maps, a second N-task array runs the searches at
# each variable's best sites (--localisation OUT.shards) into OUT.search.shards, and merge joins both.
set -euo pipefail
if [ $# -lt 4 ] || { [ "$1" != distill ] && [ "$1" != fidelity ]; }; then
    echo "usage: $0 distill|fidelity N OUT MODEL --network NET --task TASK [options]" >&2
    exit 64
fi
command=$1
shards=$2
out=$3
shift 3
case $shards in '' | *[!0-9]* | 0) echo "$0: N must be a whole number of shards, 1 or more (got '$shards')" >&2; exit 64 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
retort=${RETORT:-retort}
# An absolute path for the array tasks, which may not share this shell's PATH.
if [[ $retort == */* ]]; then retort=$(cd "$(dirname "$retort")" && pwd)/$(basename "$retort"); fi
shards_dir=${out%/}.shards
mkdir -p "$shards_dir"
# --chdir: the tasks start here, so relative paths mean what they mean to this script.
# --wait: sbatch returns when every array task has ended, with the highest exit status among them.
# shellcheck disable=SC2086  # SBATCH_OPTIONS is a list of options
if ! RETORT=$retort sbatch --wait --chdir="$PWD" --array="0-$((shards - 1))" --output="$shards_dir/slurm-%A_%a.out" \
    ${SBATCH_OPTIONS:-} "$here/shard_array.sbatch" "$command" "$shards_dir" "$@"; then
    echo "$0: a shard failed; its log is $shards_dir/slurm-*_I.out" >&2
    exit 1
fi
parts=("$shards_dir")
if compgen -G "$shards_dir/shard-*-of-$shards/prompt-localisation.json" >/dev/null; then
    # The second phase needs the whole map, so it starts once the first has ended.
    search_dir=${out%/}.search.shards
    mkdir -p "$search_dir"
    # shellcheck disable=SC2086  # SBATCH_OPTIONS is a list of options
    if ! RETORT=$retort sbatch --wait --chdir="$PWD" --array="0-$((shards - 1))" --output="$search_dir/slurm-%A_%a.out" \
        ${SBATCH_OPTIONS:-} "$here/shard_array.sbatch" "$command" "$search_dir" "$@" --localisation "$shards_dir"; then
        echo "$0: a second-phase shard failed; its log is $search_dir/slurm-*_I.out" >&2
        exit 1
    fi
    parts+=("$search_dir")
fi
# shellcheck disable=SC2086  # MERGE_OPTIONS is a list of options
exec "$retort" merge "${parts[@]}" --out "$out" ${MERGE_OPTIONS:-}
