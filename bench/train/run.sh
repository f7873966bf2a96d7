#!/usr/bin/env bash
# Compares keras training speed on GoMLX's backends with PyTorch on the CPU: one training step
# of lab 3 (Adam, batch 32) and exercise 2 (Nadam, batch 128), and with --epoch one full lab 3 epoch
# (40k + 10k). Rows:
#   xla     GoMLX XLA CPU (the PJRT plugin kernel-setup/setup.sh installs; the labs' default)
#   go      GoMLX's pure-Go backend built with GOEXPERIMENT=simd (the fallback without the plugin)
#   torch   PyTorch 2.x CPU from PyPI, pinned in bench/requirements-torch.txt, in bench/.venv
#   torch1  Debian's python3-torch 1.13 (only with --debian-torch)
# Every round runs each of them once, in turn, so that all see the same machine load; the table
# shows medians, the spread of the rounds and the ratio to PyTorch 2.x (goal: at most 1.0 for XLA).
#
#   bash bench/train/run.sh [--epoch] [--debian-torch]     (ROUNDS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
epoch="" debian=""
for a in "$@"; do
	case "$a" in
	--epoch) epoch=1 ;;
	--debian-torch) debian=1 ;;
	*) echo "usage: $0 [--epoch] [--debian-torch]" >&2; exit 2 ;;
	esac
done
rounds=${ROUNDS:-5}
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
# XLA's plugin (and the rest of the notebook set-up; seconds when in place).
kernel-setup/setup.sh >/dev/null || echo "run.sh: kernel-setup/setup.sh reported a problem; the xla row may fall back to Go" >&2
source bench/torch_venv.sh          # TORCH_PY, GLIBC_TUNABLES (PyTorch's Adam at its best)
[ -n "$debian" ] && source bench/need_torch.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/train" ./bench/train
export OMP_WAIT_POLICY=PASSIVE
run_go() { # row backend args...
	local row=$1 backend=$2
	shift 2
	# GLIBC_TUNABLES is PyTorch's (torch_venv.sh): keras sets glibc's malloc for XLA itself.
	env -u GLIBC_TUNABLES GOMLX_BACKEND="$backend" "$out/train" "$@" | sed "s/^/$row /" >>"$out/results"
}
for ((r = 1; r <= rounds; r++)); do
	echo "round $r/$rounds: steps ..." >&2
	run_go xla "" -repeats 3
	run_go go go -repeats 3
	"$TORCH_PY" bench/train/torch_ref.py --threads 2 --repeats 3 | sed 's/^/torch /' >>"$out/results"
	if [ -n "$debian" ]; then
		/usr/bin/python3 bench/train/torch_ref.py --threads 2 --repeats 3 | sed 's/^/torch1 /' >>"$out/results"
	fi
done
if [ -n "$epoch" ]; then
	# Each epoch in a process of its own, so that its peak RSS is that of a lab 3 training run.
	for ((r = 1; r <= ${EPOCH_ROUNDS:-1}; r++)); do
		echo "lab 3 epoch $r: xla, go, torch ..." >&2
		run_go xla-epoch "" -models "" -epoch
		run_go go-epoch go -models "" -epoch
		"$TORCH_PY" bench/train/torch_ref.py --threads 2 --models "" --epoch | sed 's/^/torch-epoch /' >>"$out/results"
	done
fi
"$TORCH_PY" bench/train/table.py "$out/results"
