#!/usr/bin/env bash
# Trains exercise 2 once per seed with keras (main.go) and with an independent PyTorch
# implementation of the same Keras semantics (torch_exercise2.py), on the same CIFAR-10 files, and
# prints both distributions of test accuracy, epochs and best val_loss. The original Keras run
# (one seed) reported test accuracy 0.3850 after 15 epochs.
#
#   CIFAR10_DIR=../shared/cifar10 bash bench/exercise2/run.sh [SEEDS]    # default SEEDS 1-20
#
# Needs Debian's python3-torch and python3-numpy (run with /usr/bin/python3); installs them when run
# as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-1-20}
: "${CIFAR10_DIR:?set CIFAR10_DIR to the folder holding cifar-10-batches-py}"
source bench/need_torch.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/exercise2" ./bench/exercise2
echo "keras, seeds $seeds ..." >&2
"$out/exercise2" -dir "$CIFAR10_DIR" -seeds "$seeds" >"$out/go.jsonl"
echo "PyTorch, seeds $seeds ..." >&2
OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/exercise2/torch_exercise2.py --dir "$CIFAR10_DIR" --seeds "$seeds" >"$out/torch.jsonl"
/usr/bin/python3 - "$out/go.jsonl" "$out/torch.jsonl" <<'PY'
import json, statistics, sys
print(f"{'who':12} {'runs':>4} {'test acc median':>15} {'min':>6} {'max':>6} {'mean':>6} {'epochs median':>13} {'best val_loss median':>20} {'s/run':>6}")
for who, path in zip(("keras", "PyTorch"), sys.argv[1:]):
    rows = [json.loads(l) for l in open(path)]
    acc = [r["test_accuracy"] for r in rows]
    print(f"{who:12} {len(rows):>4} {statistics.median(acc):>15.4f} {min(acc):>6.3f} {max(acc):>6.3f} {statistics.mean(acc):>6.4f}"
          f" {statistics.median(r['epochs'] for r in rows):>13} {statistics.median(r['best_val_loss'] for r in rows):>20.4f}"
          f" {statistics.median(r['seconds'] for r in rows):>6.1f}")
print("Keras (the exercise's one run): test accuracy 0.3850 after 15 epochs")
PY
