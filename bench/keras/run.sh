#!/usr/bin/env bash
# cifarlab against real Keras: the labs' runs in Keras 3 on TensorFlow 2.20 (CPU, from PyPI, pinned
# with hashes in requirements.txt, in bench/keras/.venv) and in cifarlab (keras on XLA and on
# the pure-Go backend), on the same CIFAR-10 files and the same machine, then the tables:
#   1. exercise 2, EX2_SEEDS seeds each (default 1-20): test accuracy distributions and two-sample
#      tests (Mann-Whitney U, Kolmogorov-Smirnov; scipy);
#   2. lab 3 in full, LAB3_SEEDS seeds for Keras and XLA (default 1-3), LAB3_GO_SEEDS for Go
#      (default 1; empty: none): best val_accuracy, stopping epoch, test accuracy, learning-rate steps;
#   3. speed, ROUNDS rounds (default 3) alternating Keras, cifarlab XLA and cifarlab Go: ms/step of
#      both labs' models (bench/train's measure) and one lab 3 epoch, with the ratio to Keras; plus
#      s/epoch of the real training runs of 1 and 2.
# The curves of one seed of Keras and cifarlab XLA, overlaid, go to bench/keras/curves-*.png.
#
#   4. (STAGES=issue27, not in the default) issue 27's questions (c) batch normalization, (d) SELU
#      and (f) 1cycle on exercise 2's data, I27_SEEDS seeds each (default 1-20), alternating Keras
#      and cifarlab XLA in rounds of 5 seeds, with plain exercise 2 runs for BN's time overhead;
#      STAGES=issue27speed times exercise 2's and (c)'s training steps, alternating.
#
#   bash bench/keras/run.sh                   # everything (about 2-3 hours on 2 cores)
#   bash bench/keras/run.sh --smoke           # 2 epochs, 2 seeds, 1 speed round: checks the set-up
#   STAGES="exercise2 speed" bash bench/keras/run.sh
#   OUT=bench/keras/out/issue27 STAGES="issue27 issue27speed" bash bench/keras/run.sh   # about 40 min
#
# Results are JSON lines in OUT (default bench/keras/out); seeds already there are not trained
# again, so an interrupted run resumes (rm -r the folder to start over). TensorFlow runs with its
# default threading (intra-op and inter-op pools of one thread per core), as a student gets it.
# Heavy jobs run under nice -n ${NICE:-19}.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
smoke=""
for a in "$@"; do
	case "$a" in
	--smoke) smoke=1 ;;
	*) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
	esac
done
if [ -z "${CIFAR10_DIR:-}" ] && [ -d ../shared/cifar10 ]; then
	CIFAR10_DIR=$(cd ../shared/cifar10 && pwd)
fi
: "${CIFAR10_DIR:?set CIFAR10_DIR to the folder holding cifar-10-batches-py}"
export CIFAR10_DIR
stages=${STAGES:-exercise2 lab3 speed}
ex2_seeds=${EX2_SEEDS:-1-20} lab3_seeds=${LAB3_SEEDS:-1-3} lab3_go_seeds=${LAB3_GO_SEEDS-1}
rounds=${ROUNDS:-3} epochs=50 out=${OUT:-$root/bench/keras/out}
if [ -n "$smoke" ]; then
	ex2_seeds=${EX2_SEEDS:-1-2} lab3_seeds=${LAB3_SEEDS:-1} lab3_go_seeds=${LAB3_GO_SEEDS-1}
	rounds=1 epochs=2 out=${OUT:-$root/bench/keras/out-smoke}
fi
mkdir -p "$out"
nice=(nice -n "${NICE:-19}")

source bench/keras/venv.sh # KERAS_PY
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
plugin=${CIFARLAB_PJRT_PLUGIN:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so}
if [ ! -f "$plugin" ]; then
	echo "run.sh: no XLA PJRT plugin at $plugin; running kernel-setup/setup.sh to install it" >&2
	kernel-setup/setup.sh >/dev/null || echo "run.sh: kernel-setup/setup.sh reported a problem; the XLA rows may fall back to Go" >&2
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/labs" ./bench/keras
go build -o "$bin/train" ./bench/train

# missing FILE SEEDS: the seeds of SEEDS (ranges and lists) that FILE has no result for yet.
missing() {
	"$KERAS_PY" - "$1" "$2" <<'PY'
import json, os, sys
path, spec = sys.argv[1], sys.argv[2]
want = []
for f in spec.split(","):
    a, _, b = f.strip().partition("-")
    want += range(int(a), int(b or a) + 1)
have = {json.loads(l)["seed"] for l in open(path) if l.startswith("{")} if os.path.exists(path) else set()
print(",".join(str(s) for s in want if s not in have))
PY
}

# train LAB WHO SEEDS: trains the seeds of LAB that are not in OUT/LAB-WHO.jsonl yet.
train() {
	local lab=$1 who=$2 file="$out/$1-$2.jsonl" todo t0
	todo=$(missing "$file" "$3")
	if [ -z "$todo" ]; then
		echo "$lab $who: seeds $3 done" >&2
		return
	fi
	echo "$lab $who: seeds $todo ..." >&2
	t0=$(date +%s)
	case "$who" in
	keras) "${nice[@]}" "$KERAS_PY" bench/keras/keras_labs.py --lab "$lab" --seeds "$todo" --epochs "$epochs" >>"$file" ;;
	xla) GOMLX_BACKEND= "${nice[@]}" "$bin/labs" -lab "$lab" -seeds "$todo" -epochs "$epochs" >>"$file" ;;
	go) GOMLX_BACKEND=go "${nice[@]}" "$bin/labs" -lab "$lab" -seeds "$todo" -epochs "$epochs" >>"$file" ;;
	esac
	echo "$lab $who: $(($(date +%s) - t0)) s" >&2
}

for stage in $stages; do
	case "$stage" in
	exercise2)
		for who in keras xla go; do train exercise2 "$who" "$ex2_seeds"; done
		;;
	lab3)
		# Seed by seed, alternating, so that a partial run still has both sides of each seed.
		for seed in $(missing /dev/null "$lab3_seeds" | tr , ' '); do
			train lab3 keras "$seed"
			train lab3 xla "$seed"
		done
		[ -z "$lab3_go_seeds" ] || train lab3 go "$lab3_go_seeds"
		;;
	speed)
		steps=30 repeats=3
		[ -n "$smoke" ] && steps=5 repeats=1
		: >"$out/speed.txt"
		for ((r = 1; r <= rounds; r++)); do
			echo "speed round $r/$rounds: keras, xla, go ..." >&2
			"${nice[@]}" "$KERAS_PY" bench/keras/keras_labs.py --speed --steps $steps --repeats $repeats --epoch | sed 's/^/keras /' >>"$out/speed.txt"
			GOMLX_BACKEND= "${nice[@]}" "$bin/train" -steps $steps -repeats $repeats -epoch | sed 's/^/xla /' >>"$out/speed.txt"
			GOMLX_BACKEND=go "${nice[@]}" "$bin/train" -steps $steps -repeats $repeats -epoch | sed 's/^/go /' >>"$out/speed.txt"
		done
		;;
	issue27)
		# Issue 27's questions (c) ex2bn, (d) ex2selu and (f) ex2onecycle, I27_SEEDS seeds each
		# (default 1-20) in rounds of 5: in each round, each question's Keras seeds, then the same
		# seeds in cifarlab XLA; then 2 seeds of plain exercise 2 (seeds 101, 102, ... one pair a
		# round), the reference of batch normalization's time per epoch on the same machine load.
		i27=$(missing /dev/null "${I27_SEEDS:-1-20}")
		[ -n "$smoke" ] && i27=1
		set -- ${i27//,/ }
		round=0
		while [ $# -gt 0 ]; do
			chunk=$1
			shift
			for ((k = 1; k < 5 && $# > 0; k++)); do chunk=$chunk,$1; shift; done
			for lab in ex2bn ex2selu ex2onecycle; do
				train "$lab" keras "$chunk"
				train "$lab" xla "$chunk"
			done
			ref="$((101 + 2 * round)),$((102 + 2 * round))"
			train exercise2 keras "$ref"
			train exercise2 xla "$ref"
			round=$((round + 1))
		done
		;;
	issue27speed)
		# Batch normalization's cost per training step: exercise 2's network and (c)'s (ex2bn),
		# bench/train's step measure (fits of one epoch over 30 random batches after one that
		# compiles or traces, median of 3), ROUNDS rounds alternating Keras and cifarlab XLA.
		steps=30 repeats=3
		[ -n "$smoke" ] && steps=5 repeats=1
		: >"$out/speed.txt"
		for ((r = 1; r <= rounds; r++)); do
			echo "issue27 speed round $r/$rounds: keras, xla ..." >&2
			"${nice[@]}" "$KERAS_PY" bench/keras/keras_labs.py --speed --models exercise2,ex2bn --steps $steps --repeats $repeats | sed 's/^/keras /' >>"$out/speed.txt"
			GOMLX_BACKEND= "${nice[@]}" "$bin/labs" -speed exercise2,ex2bn -steps $steps -repeats $repeats | sed 's/^/xla /' >>"$out/speed.txt"
		done
		;;
	*) echo "run.sh: unknown stage $stage (exercise2, lab3, speed, issue27, issue27speed)" >&2; exit 2 ;;
	esac
done
pngs=$out
[ -z "$smoke" ] && [ "$out" = "$root/bench/keras/out" ] && pngs=$root/bench/keras # another OUT keeps its own
MPLBACKEND=Agg "$KERAS_PY" bench/keras/report.py "$out" "$pngs"
