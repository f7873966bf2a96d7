#!/usr/bin/env bash
# Compares cifar/keras training speed with PyTorch on the CPU: one training step of lab 3 (Adam,
# batch 32) and exercise 2 (Nadam, batch 128), and with --epoch one full lab 3 epoch (40k + 10k).
# Go and PyTorch runs alternate (ROUNDS rounds, default 3) so both see the same machine load; the
# table shows medians and the ratio Go / PyTorch (goal: at most 1.5).
#
#   bash bench/train/run.sh [--epoch] [--stock]
#
# --stock also times simplego's own matrix products (CIFAR_FASTDOT=off).
# Needs Debian's python3-torch and libopenblas0-pthread, which it installs when run as root (the
# threaded OpenBLAS: without it torch falls back to the reference BLAS and is several times slower,
# not a fair reference).
set -euo pipefail
cd "$(dirname "$0")/../.."
epoch="" stock=""
for a in "$@"; do
	case "$a" in
	--epoch) epoch=--epoch ;;
	--stock) stock=1 ;;
	*) echo "usage: $0 [--epoch] [--stock]" >&2; exit 2 ;;
	esac
done
rounds=${ROUNDS:-3}
source bench/need_torch.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/train" ./bench/train
export OMP_WAIT_POLICY=PASSIVE
for ((r = 1; r <= rounds; r++)); do
	echo "round $r/$rounds: steps ..." >&2
	"$out/train" -repeats 3 | sed 's/^/go /' >>"$out/results"
	if [ -n "$stock" ]; then
		CIFAR_FASTDOT=off "$out/train" -repeats 3 | sed 's/^/stock /' >>"$out/results"
	fi
	/usr/bin/python3 bench/train/torch_ref.py --threads 2 --repeats 3 | sed 's/^/torch /' >>"$out/results"
done
if [ -n "$epoch" ]; then
	# Each epoch in a process of its own, so that its peak RSS is that of a lab 3 training run.
	echo "lab 3 epoch: go ..." >&2
	"$out/train" -models "" -epoch | sed 's/^/go-epoch /' >>"$out/results"
	echo "lab 3 epoch: torch ..." >&2
	/usr/bin/python3 bench/train/torch_ref.py --threads 2 --models "" --epoch | sed 's/^/torch-epoch /' >>"$out/results"
fi
/usr/bin/python3 - "$out/results" <<'PY'
import json, statistics, sys, platform, datetime, os
rows = {}
info = {}
for line in open(sys.argv[1]):
    proc, js = line.split(" ", 1)
    who = proc.removesuffix("-epoch")
    d = json.loads(js)
    if d["what"] in ("info",):
        info[who] = d; continue
    if d["what"] == "memory":
        rows.setdefault((proc, "peak RSS MiB", ""), []).append(d["peak_rss_mib"]); continue
    key = (who, d["model"], d["what"])
    rows.setdefault(key, []).append(d["ms_per_step"] if d["what"] == "step" else d["s_per_epoch"])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"date {datetime.date.today()}, {os.cpu_count()} CPUs ({cpu}), load avg {os.getloadavg()[0]:.1f}")
for who, d in info.items():
    print(f"{who}: {d.get('backend') or ('torch ' + d['torch'] + ', ' + str(d['threads']) + ' threads, ' + d['blas'] + ', flush denormals ' + str(d.get('flush_denormal')))}")
print(f"{'model':10} {'measure':8} {'who':6} {'median':>10} {'runs':30} {'ratio to torch':>14}")
for (who, model, what), vals in sorted(rows.items()):
    if model == "peak RSS MiB":
        continue
    med = statistics.median(vals)
    unit = "ms/step" if what == "step" else "s/epoch"
    ref = rows.get(("torch", model, what))
    ratio = f"{med / statistics.median(ref):.2f}x" if ref and who != "torch" else ""
    print(f"{model:10} {what:8} {who:6} {med:8.2f} {unit:8} {str([round(v, 2) for v in vals]):30} {ratio:>8}")
for (who, model, what), vals in sorted(rows.items()):
    if model == "peak RSS MiB":
        print(f"peak RSS of the {who} process{' (one lab 3 epoch, 50k images held as bytes, as lab.Images does)' if who.endswith('-epoch') else ' (steps)'}: {max(vals):.0f} MiB")
PY
