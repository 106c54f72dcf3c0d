#!/usr/bin/env bash
# Sharded runs on a real Slurm: a throwaway single-node cluster on localhost (munged, slurmctld,
# slurmd; everything under a temporary folder, on ports 16817/16818), 4-task arrays through
# scripts/slurm/sharded.sh — `retort distill --shard` of the bundled example and of the
# hand-wired boolean circuit with --representation (whose tests run in the merge), and
# `retort fidelity --shard` of the bundled example's fitted surrogates and of the circuit's with
# --representation (each shard runs a slice of the tests' work list), and of a prompt task's
# --representation tests on the tiny Llama in two phases (sites, then searches) — merged, and compared
# with one unsharded run each: every file the same, byte for byte, except report.json's timings
# (its "seconds" keys) and report.html (which prints them).
#
#   scripts/slurm/ci_check.sh [RETORT]        (default .build/release/retort)
#
# Needs root (the daemons run as SlurmUser=root) and Debian's slurm-wlm and munge. Where the
# daemons cannot run (no packages, not root, a sandbox refusing them) it prints SKIPPED and why,
# and exits 0. Any other failure exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
retort=$(realpath "${1:-.build/release/retort}")
[ -x "$retort" ] || { echo "ci_check: no retort binary at $retort" >&2; exit 1; }

skip() { echo "slurm ci_check: SKIPPED: $*"; exit 0; }
for tool in munged slurmctld slurmd sbatch squeue scontrol; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip "not root: this throwaway cluster runs its daemons as root"

work=$(mktemp -d /tmp/retort-slurm.XXXXXX)
pids=()
cleanup() {
    local status=$?
    [ -n "${SLURM_CONF:-}" ] && scontrol shutdown >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ $status -ne 0 ]; then
        for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -20 "$log"; }; done >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
started=$(date +%s.%N)
node=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/munge" "$work/state" "$work/spool"
chmod 700 "$work/munge"
# A fresh key for this cluster only; munged insists its files be private.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge.log" --seed-file="$work/munge/munge.seed" \
    || skip "munged does not start here: $(tail -1 "$work/munge.log" 2>/dev/null)"
pids+=("$(cat "$work/munge/munged.pid")")

cat >"$work/slurm.conf" <<CONF
ClusterName=retortci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start here: $(tail -1 "$work/slurmctld.log" 2>/dev/null)"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.2; done
[ -s "$work/slurmctld.pid" ] && pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" || skip "slurmd does not start here: $(tail -1 "$work/slurmd.log" 2>/dev/null)"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.2; done
[ -s "$work/slurmd.pid" ] && pids+=("$(cat "$work/slurmd.pid")")
# The node is usable once it reports idle.
for _ in $(seq 100); do
    state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.3
done
[ "$state" = idle ] || skip "the node never came up (state '${state:-none}'): $(tail -1 "$work/slurmd.log" 2>/dev/null)"
echo "slurm ci_check: cluster up on $node ($cpus CPUs) in $(elapsed "$started") s"

# compare NAME SINGLE SHARDED: the same files, report.json but its timings (report.html prints them).
compare() {
    python3 - "$@" <<'PY'
import json, os, sys
what, single, sharded = sys.argv[1:4]
names = sorted(n for n in os.listdir(single))
merged_names = sorted(os.listdir(sharded))
if names != merged_names:
    sys.exit(f"{what}: the merged run wrote {merged_names}, one run wrote {names}")
def untimed(value):
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k != "seconds" and not k.endswith("_seconds")}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value
for name in names:
    if name == "report.html":
        continue  # it prints the run's seconds; report.json holds the same numbers
    a, b = (open(os.path.join(d, name), "rb").read() for d in (single, sharded))
    if name == "report.json":
        a, b = untimed(json.loads(a)), untimed(json.loads(b))
    if a != b:
        sys.exit(f"{what}: {name}: the merged run's differs from one run's")
print(f"slurm ci_check: {what}: merged = single (report.json but its timings; report.html not compared) for {', '.join(names)}")
PY
}

# run COMMAND NAME N ARGS…: one machine, then N shards on Slurm waited for and merged by the driver.
run() {
    local command=$1 name=$2 shards=$3
    shift 3
    "$retort" "$command" "$@" --out "$work/$name/single" >"$work/$name.single.txt"
    local array_started
    array_started=$(date +%s.%N)
    RETORT=$retort SBATCH_OPTIONS="--cpus-per-task=1" scripts/slurm/sharded.sh "$command" "$shards" "$work/$name/sharded" "$@" \
        >"$work/$name.sharded.txt"
    echo "slurm ci_check: $name: $shards-task array + merge in $(elapsed "$array_started") s"
    for ((i = 0; i < shards; i++)); do
        grep -h "^shard $i/$shards" "$work/$name"/sharded.shards/slurm-*_"$i".out \
            || { echo "$name: shard $i/$shards left no summary" >&2; exit 1; }
    done
    compare "$name" "$work/$name/single" "$work/$name/sharded"
}

addition=formats/vectors/networks/addition_mlp
run distill addition 4 "$addition/model.safetensors" --network "$addition/network.json" --task "$addition/task.json" \
    --surrogates table tree program --program-seconds 20
# The representation tests run once, in the merge, on the joined probes.
circuit=formats/vectors/networks/boolean_circuit_handwired
run distill representation 4 "$circuit/model.safetensors" --network "$circuit/network.json" --task "$circuit/task.json" \
    --surrogates program table --representation --pairs 64
# The evaluation sharded: each shard runs the network and the surrogates fitted above on its slice.
run fidelity evaluation 4 "$addition/model.safetensors" --network "$addition/network.json" --task "$addition/task.json" \
    --surrogate "$work/addition/single/table.json" "$work/addition/single/tree.json" "$work/addition/single/program.json"
# The representation tests sharded: each shard searches its slice of (surrogate, network or control, variable).
run fidelity representation-search 4 "$circuit/model.safetensors" --network "$circuit/network.json" \
    --task "$circuit/task.json" --surrogate "$work/representation/single/program.json" \
    "$work/representation/single/table.json" --representation --pairs 64
# A prompt task's representation tests, sharded in two phases (the sites' map, then the searches at each
# variable's best sites with the random-init control): the tiny Llama beside a byte-level tokenizer (token id =
# byte, no merges), prompts "{a}+{b}=" after a one-line few-shot prefix, a program surrogate of the answer digit.
prompt=$work/prompt_fixture
mkdir -p "$prompt/model"
cp formats/vectors/networks/llama_tiny/model.safetensors formats/vectors/networks/llama_tiny/config.json "$prompt/model/"
python3 - "$prompt" <<'PY'
import json, sys
folder = sys.argv[1]
vocab, extra = {}, 256
for byte in range(256):
    printable = 0x21 <= byte <= 0x7E or 0xA1 <= byte <= 0xAC or 0xAE <= byte <= 0xFF
    vocab[chr(byte if printable else extra)] = byte
    extra += 0 if printable else 1
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": []},
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
           "decoder": {"type": "ByteLevel"}}, open(f"{folder}/model/tokenizer.json", "w"))
json.dump({"retort_task": 1, "name": "tiny prompt addition",
           "variables": [{"name": "a", "type": "integer", "min": 10, "max": 39},
                         {"name": "b", "type": "integer", "min": 10, "max": 39}],
           "encoder": {"kind": "prompt", "template": "{a}+{b}=", "prefix": "1+1=2\n"},
           "decoder": {"kind": "next_token", "candidates": [str(d) for d in range(10)], "values": list(range(10))},
           "regions": {"probe": {"all": True}}}, open(f"{folder}/task.json", "w"))
json.dump({"retort_surrogate": 1, "family": "program", "body": {"expression": "digit0(a + b)"}},
          open(f"{folder}/program.json", "w"))
PY
run fidelity prompt-representation 3 "$prompt/model" --network auto --task "$prompt/task.json" \
    --surrogate "$prompt/program.json" --representation --pairs 16 --prompt-inputs 24 --search-sites 2 \
    --subspace-dimensions 1 --subspace-steps 5 --positions -3,-1
for ((i = 0; i < 3; i++)); do
    grep -h "^shard $i/3" "$work"/prompt-representation/sharded.search.shards/slurm-*_"$i".out \
        || { echo "prompt-representation: second-phase shard $i/3 left no summary" >&2; exit 1; }
done
echo "slurm ci_check: passed in $(elapsed "$started") s"
