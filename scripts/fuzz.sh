#!/usr/bin/env bash
# Coverage-guided fuzzing of the weight-file readers (libFuzzer + AddressSanitizer).
#
#   scripts/fuzz.sh [--seconds N] [--replay] [TARGET …]
#   scripts/fuzz.sh TARGET SECONDS
#
# TARGET is one of the Fuzz package's targets: the weight-file readers (safetensors, also gzip- and
# zlib-wrapped; npz, also bare NPY; stz gguf pytorch pickle) and the JSON inputs (network task
# surrogate intervention tokenizer, and probes: probe files as `distill --probes` reads them; shard: the
# files `merge` reads from shard folders); all
# by default. Each target starts from the files of its kind
# in formats/vectors (and the tests' fixtures) plus the inputs that once broke it
# (Fuzz/regressions/TARGET), and mutates with its dictionary
# (Fuzz/dictionaries/TARGET.dict: the format's magic bytes, keys and names). --seconds N fuzzes each
# target for N seconds (default 60); a crash, a timeout (30 s) or an allocation over 4 GB is saved under
# Fuzz/findings/TARGET and the script exits 1. Each run ends with one summary line on stderr:
# seconds, executions, executions per second, coverage (edges) and findings.
# --replay only runs every seed and regression input once (deterministic: what CI runs first).
# Some seeds (surrogate, stz, probes, shard) are written by the release retort when it is built
# (.build/release/retort, or $RETORT).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
retort=${RETORT:-$root/.build/release/retort}

seconds=60
replay=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --replay) replay=1; shift ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    [0-9]*) seconds=$1; shift ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(safetensors sharded npz stz gguf pytorch pickle network task surrogate intervention tokenizer probes shard)

# SwiftPM links with gold, which crashes on libFuzzer's objects; the toolchain's lld links them.
swiftc_path=$(readlink -f "$(command -v swiftc)")
toolset=$(mktemp)
trap 'rm -f "$toolset"' EXIT
printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$(dirname "$swiftc_path")/ld.lld" >"$toolset"
swift build -c release --package-path Fuzz --scratch-path "$root/.build-fuzz" \
  -Xswiftc -sanitize=fuzzer,address --toolset "$toolset" >&2
bin=$root/.build-fuzz/release

# The seed files of each target: the golden vectors of its format, malformed ones included.
seeds() {
  local v=$root/formats/vectors
  case "$1" in
    safetensors) ls "$v"/safetensors/*.safetensors "$v"/malformed/* "$v"/conversion/* "$v"/compressed/* 2>/dev/null ;;
    sharded) find "$v" -name 'model.safetensors.index.json' 2>/dev/null ;;
    npz) ls "$v"/npz/* "$v"/npy/* 2>/dev/null ;;
    stz) find "$v" -name '*.stz' 2>/dev/null ;;
    gguf) find "$v"/gguf "$v"/foreign "$v"/networks -name "*.gguf" 2>/dev/null ;;
    pytorch) find "$v"/pytorch -type f ! -name "*.json" 2>/dev/null; find "$v"/networks "$v"/foreign -name "*.pt" -o -name "*.bin" 2>/dev/null ;;
    pickle) find "$v"/pytorch -name '*.pkl' 2>/dev/null ;;
    network) find "$v"/networks -name network.json -o -name config.json 2>/dev/null ;;
    task) find "$v"/networks "$v"/tasks -name 'task*.json' -o -name 'smollm2_addition.json' 2>/dev/null ;;
    surrogate) grep -rl --include='*.json' retort_surrogate "$v" "$root"/Tests 2>/dev/null ;;
    intervention) find "$v"/networks -name 'interventions.json' 2>/dev/null ;;
    probes) ls "$v"/malformed/probes_*.safetensors 2>/dev/null ;;
    tokenizer) ls "$root"/Tests/NetworkTests/Fixtures/tokenizer/*_tokenizer.json "$v"/gguf/metadata.gguf 2>/dev/null ;;
  esac
}

# LeakSanitizer is off: Swift keeps enum case tags in a pointer's spare bits, so an indirect
# enum's boxes (program expressions) look unreachable to it and every run would "leak".
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

status=0
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz-$t" ] || { echo "fuzz.sh: no target $t" >&2; exit 64; }
  corpus=$(mktemp -d)
  # Distinct names: many seeds share a base name (network.json, task.json).
  seeds "$t" | while read -r f; do
    [ -f "$f" ] && cp "$f" "$corpus/$(printf '%s' "$f" | md5sum | cut -c1-8)-$(basename "$f")"
  done
  # Surrogate seeds: every family, as the bundled example's distill writes them (release retort); its rule
  # list has rules with exceptions ("except").
  if [ "$t" = surrogate ] && [ -x "$retort" ]; then
    "$retort" distill --out "$corpus/example" --surrogates table tree rule_list rule_set program >/dev/null 2>&1 || true
    for f in "$corpus"/example/*.json; do
      [ "$(basename "$f")" = report.json ] || cp "$f" "$corpus/example-$(basename "$f")"
    done
    rm -rf "$corpus/example"
  fi
  # Probe files as distill writes them: the bundled example's (5,000 probes), and one of 100 probes
  # with a hidden layer's activations (a probe feature on the hook), from the example's task.
  if [ "$t" = probes ] && [ -x "$retort" ]; then
    example=$root/formats/vectors/networks/addition_mlp
    "$retort" distill --out "$corpus/example" --surrogates table >/dev/null 2>&1 || true
    python3 - "$example/task.json" "$corpus/small_task.json" <<'PY' || true
import json, sys
task = json.load(open(sys.argv[1]))
task["regions"] = {"probe": {"sample": 100, "seed": 3}}
json.dump(task, open(sys.argv[2], "w"))
PY
    (cd "$example" && "$retort" distill model.safetensors --network network.json --task "$corpus/small_task.json" \
      --features a b 'layers.0.hook_post>0' --surrogates table --out "$corpus/hooked") >/dev/null 2>&1 || true
    for run in example hooked; do
      [ -f "$corpus/$run/probes.safetensors" ] && cp "$corpus/$run/probes.safetensors" "$corpus/$run-probes.safetensors"
      rm -rf "${corpus:?}/$run"
    done
    rm -f "$corpus/small_task.json"
  fi
  # Shard files as the release retort writes them, each behind the byte that picks its kind (fuzz-shard):
  # a distill shard's probe file (0), a fidelity shard's evaluation file (1) and representation results (2),
  # from the boolean circuit (16 inputs, so the shards are small). A prompt task's prompt-localisation.json (3)
  # and prompt-search.json (4) need a language model: no seeds, only their keys in the dictionary.
  if [ "$t" = shard ] && [ -x "$retort" ]; then
    c=$root/formats/vectors/networks/boolean_circuit_handwired
    w=$(mktemp -d)
    "$retort" distill "$c/model.safetensors" --network "$c/network.json" --task "$c/task.json" \
      --surrogates program table --out "$w/single" >/dev/null 2>&1 || true
    "$retort" distill "$c/model.safetensors" --network "$c/network.json" --task "$c/task.json" \
      --surrogates program table --shard 0/2 --out "$w/d" >/dev/null 2>&1 || true
    "$retort" fidelity "$c/model.safetensors" --network "$c/network.json" --task "$c/task.json" \
      --surrogate "$w/single/program.json" "$w/single/table.json" --representation --pairs 16 \
      --shard 1/2 --out "$w/f" >/dev/null 2>&1 || true
    for pick in "0 d/*/probe.safetensors" "1 f/*/evaluation.safetensors" "2 f/*/representation.json"; do
      set -- $pick
      for f in "$w"/$2; do
        [ -f "$f" ] && { printf "\\x0$1"; cat "$f"; } >"$corpus/seed-$1-$(basename "$f")"
      done
    done
    rm -rf "$w"
  fi
  # .stz seeds are made from the safetensors vectors by the release retort, when it is built.
  if [ "$t" = stz ] && [ -x "$retort" ]; then
    for f in "$root"/formats/vectors/safetensors/*.safetensors; do
      "$retort" convert "$f" "$corpus/$(basename "$f" .safetensors).stz" >/dev/null 2>&1 || true
    done
  fi
  # A pickle target also starts from the data.pkl inside each PyTorch zip.
  if [ "$t" = pickle ]; then
    for z in $(seeds pytorch); do
      python3 - "$z" "$corpus" <<'PY' || true
import sys, zipfile, hashlib, pathlib
try:
    with zipfile.ZipFile(sys.argv[1]) as z:
        for n in z.namelist():
            if n.endswith(".pkl"):
                data = z.read(n)
                pathlib.Path(sys.argv[2], hashlib.sha1(data).hexdigest()[:16] + ".pkl").write_bytes(data)
except Exception:
    pass
PY
    done
  fi
  regressions=$root/Fuzz/regressions/$t
  mkdir -p "$regressions"
  echo "fuzz-$t: $(ls "$corpus" | wc -l) seeds, $(ls "$regressions" | wc -l) regression inputs" >&2
  if [ $replay = 1 ]; then
    # Every input once, no mutation.
    files=$(find "$corpus" "$regressions" -type f)
    if [ -n "$files" ] && ! "$bin/fuzz-$t" -rss_limit_mb=4096 -timeout=30 $files >/tmp/fuzz-$t.log 2>&1; then
      tail -40 /tmp/fuzz-$t.log >&2
      echo "fuzz-$t: an input crashed the reader (log above)" >&2
      status=1
    fi
  else
    findings=$root/Fuzz/findings/$t
    mkdir -p "$findings"
    dict=()
    [ -f "$root/Fuzz/dictionaries/$t.dict" ] && dict=(-dict="$root/Fuzz/dictionaries/$t.dict")
    log=$(mktemp)
    # The seeds stay read-only: new coverage goes to a scratch corpus directory listed first.
    work=$(mktemp -d)
    before=$(ls -A "$findings" | wc -l)
    if ! "$bin/fuzz-$t" "$work" "$corpus" "$regressions" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=4096 \
      -timeout=30 -max_len=262144 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
      tail -25 "$log" >&2
      status=1
    fi
    after=$(ls -A "$findings" | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    echo "fuzz-$t: ${seconds} s, ${execs:-?} executions, ${rate:-?}/s, coverage ${cov:-?} edges (${ft:-?} features), $((after - before)) new findings" >&2
    if [ "$after" -gt 0 ]; then
      echo "fuzz-$t: findings in Fuzz/findings/$t" >&2
      status=1
    fi
    rm -rf "$work" "$log"
  fi
  rm -rf "$corpus"
done
exit $status
