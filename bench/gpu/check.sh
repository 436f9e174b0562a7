#!/usr/bin/env bash
# GPU check in one command, from the repository root:   bash bench/gpu/check.sh [bench.gpu.check options]
#
# 1. Finds a python whose torch sees CUDA: .venv/bin/python first, then python3 and python on
#    the PATH. With a GPU but no CUDA torch, tries `pip install torch==2.14.1` into a separate
#    folder (GPU_CHECK_TORCH_DIR, default /tmp/prism-gpu-torch; the .venv is left as it is)
#    under a time limit, and says clearly when that fails.
# 2. Prints the card, torch and CUDA versions, then runs python -m bench.gpu.check --device cuda with
#    what is left of the total budget (GPU_CHECK_TOTAL_S, default 450 s): CUDA against the CPU
#    for training, full-catalogue scoring, batched re-ranking and text encoding. Results go to
#    docs/benchmarks/gpu.{json,md}, and to $OUT as well when OUT is set.
# 3. Without a GPU: one line saying so, then a tiny CPU-only smoke of the same code
#    (python -m bench.gpu.check --smoke --device cpu, written to a temporary folder), exit 0.
# Exit codes: 0 done (or no GPU and the smoke passed); 1 the smoke or the check failed;
# 3 a GPU is present but no CUDA build of torch could be found or installed.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

T0=$(date +%s)
TOTAL_S=${GPU_CHECK_TOTAL_S:-450}
PIP_S=${GPU_CHECK_PIP_S:-150}
TORCH_SPEC=${GPU_CHECK_TORCH:-torch==2.14.1}
TORCH_DIR=${GPU_CHECK_TORCH_DIR:-/tmp/prism-gpu-torch}
SMOKE_OUT=${GPU_CHECK_SMOKE_OUT:-${TMPDIR:-/tmp}/prism-gpu-check-smoke}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_DISABLE_PROGRESS_BARS=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

elapsed() { echo $(($(date +%s) - T0)); }

# One line: "cuda|cpu <torch> <cuda> | <card> | <missing modules or ->", or "notorch ...".
PROBE='
import importlib.util, sys
try:
    import torch
except Exception as exc:
    print("notorch", type(exc).__name__)
    sys.exit(0)
cuda = torch.cuda.is_available()
card = torch.cuda.get_device_name(0) if cuda else "-"
needed = ("numpy", "pandas", "scipy", "pyarrow", "transformers", "tokenizers", "safetensors",
          "tqdm")
missing = [m for m in needed if importlib.util.find_spec(m) is None]
print("cuda" if cuda else "cpu", torch.__version__, torch.version.cuda, "|", card, "|",
      ",".join(missing) or "-")
'
probe() { timeout 120 "$1" -c "$PROBE" 2>/dev/null | tail -n 1; }

gpu_seen() {  # a GPU the driver knows about, whatever torch says
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
        return 0
    fi
    compgen -G '/dev/nvidia[0-9]*' >/dev/null
}

run_smoke() {  # $1 python; the tiny CPU-only run of the same code, its table printed
    local log="$SMOKE_OUT/smoke.log"
    mkdir -p "$SMOKE_OUT"
    if timeout 240 "$1" -m bench.gpu.check --smoke --device cpu --out "$SMOKE_OUT" >"$log" 2>&1; then
        sed -n '/^what /,$p' "$log"
        echo "CPU smoke passed in $(elapsed) s (log: $log)."
        return 0
    fi
    tail -n 30 "$log"
    echo "CPU smoke FAILED (log: $log)."
    return 1
}

candidates=()
[ -x .venv/bin/python ] && candidates+=(.venv/bin/python)
for name in python3 python; do
    found=$(command -v "$name" 2>/dev/null) && candidates+=("$found")
done

PY="" INFO="" CPU_PY="" CPU_INFO="" REPORT=()
for cand in "${candidates[@]}"; do
    line=$(probe "$cand")
    REPORT+=("  $cand: ${line:-no answer}")
    case "$line" in
        cuda*) PY=$cand INFO=$line; break ;;
        cpu*) [ -z "$CPU_PY" ] && CPU_PY=$cand CPU_INFO=$line ;;
    esac
done

if [ -z "$PY" ] && ! gpu_seen; then
    torch_here=$(echo "${CPU_INFO:-none}" | cut -d' ' -f2)
    echo "No CUDA GPU on this machine (no nvidia-smi GPU or /dev/nvidia*; torch here: ${torch_here:-none}): running the CPU-only smoke of bench/gpu/check.py; nothing goes to docs/benchmarks."
    if [ -z "$CPU_PY" ]; then
        echo "No python with torch found (looked at: ${candidates[*]:-none}); cannot run the smoke."
        exit 1
    fi
    run_smoke "$CPU_PY" || exit 1
    exit 0
fi

if [ -z "$PY" ]; then
    echo "A GPU is present but no python here has a CUDA build of torch:"
    printf '%s\n' "${REPORT[@]}"
    base=${CPU_PY:-${candidates[0]:-}}
    if [ -n "$base" ] && timeout 60 "$base" -m pip --version >/dev/null 2>&1; then
        echo "Trying: pip install $TORCH_SPEC into $TORCH_DIR (limit ${PIP_S} s) ..."
        mkdir -p "$TORCH_DIR"
        timeout "$PIP_S" "$base" -m pip install --quiet --disable-pip-version-check --no-input \
            --retries 1 --timeout 20 --target "$TORCH_DIR" "$TORCH_SPEC" >"$TORCH_DIR.log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            line=$(PYTHONPATH="$TORCH_DIR:$PYTHONPATH" probe "$base")
            case "$line" in
                cuda*) PY=$base INFO=$line; export PYTHONPATH="$TORCH_DIR:$PYTHONPATH" ;;
                *) echo "  installed, but that torch sees no CUDA either: ${line:-no answer}" ;;
            esac
        else
            echo "  pip failed (exit $rc$([ $rc -eq 124 ] && echo ', time limit')): $(tail -n 1 "$TORCH_DIR.log")"
        fi
    else
        echo "  no python with pip to install $TORCH_SPEC with."
    fi
    if [ -z "$PY" ]; then
        echo "CUDA TORCH UNAVAILABLE: no GPU timings were taken. Running the CPU-only smoke instead."
        [ -n "$CPU_PY" ] && run_smoke "$CPU_PY"
        exit 3
    fi
fi

# INFO: "cuda <torch> <cuda> | <card> | <missing>"
torch_version=$(echo "$INFO" | cut -d'|' -f1 | awk '{print $2}')
cuda_version=$(echo "$INFO" | cut -d'|' -f1 | awk '{print $3}')
card=$(echo "$INFO" | cut -d'|' -f2 | sed 's/^ *//; s/ *$//')
missing=$(echo "$INFO" | cut -d'|' -f3 | tr -d ' ')
echo "python: $PY"
echo "card: $card | torch $torch_version | CUDA $cuda_version"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
        | sed 's/^/nvidia-smi: /'
fi
[ "$missing" != "-" ] && echo "warning: modules missing for $PY: $missing (stages that need them will fail)"

left=$((TOTAL_S - $(elapsed) - 15))
if [ "$left" -lt 60 ]; then
    echo "Only ${left} s left of the ${TOTAL_S} s budget after setup; not starting the check."
    exit 1
fi
echo "setup took $(elapsed) s; running bench/gpu/check.py with ${left} s left"
timeout -k 10 "$left" "$PY" -m bench.gpu.check --device cuda --deadline $((left - 10)) "$@"
rc=$?
[ $rc -eq 124 ] && echo "bench.gpu.check hit the ${left} s limit; the stages finished so far are in docs/benchmarks/gpu.json"
echo "total $(elapsed) s"
exit $rc
