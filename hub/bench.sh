#!/usr/bin/env bash
# Sizing for teachers (as root, after hub/setup.sh): a notebook (default lab3.ipynb) executed in
# quick mode with the hub's kernel, by 1 and then N students at once (system users of the run,
# removed at the end), as nbconvert --execute in each one's home. Prints wall times and the peak
# RSS of all their processes. Measured on the 2-core test machine: lab3.ipynb quick, 1 student 67 s
# (1.2 GiB), 3 at once 126 s (2.6 GiB). With --class, only the N at once, each with a Go build
# cache of their own that no build has filled yet (a class's first session; CIFARLAB_HUB_GOCACHE
# = shared, copy or private says which cache the kernels start from, as on the hub), then again
# with every cache warm.
# Usage: hub/bench.sh [NOTEBOOK.ipynb] [N] [--class]   (N: 3)
set -euo pipefail
PREFIX=${CIFARLAB_HUB_PREFIX:-/opt/cifarlab}
NB=${1:-lab3.ipynb} N=${2:-3} CLASS=${3:-}
GOCACHE_MODE=${CIFARLAB_HUB_GOCACHE:-shared}
[ "$(id -u)" = 0 ] || { echo "hub/bench.sh: run it as root" >&2; exit 1; }
tag=$$ users=()
for i in $(seq "$N"); do users+=("chb$i$tag"); done
cleanup() {
  for u in "${users[@]}"; do
    for p in $(pgrep -u "$u" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; sleep 1
    for p in $(pgrep -u "$u" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    find /tmp -xdev -user "$u" -prune -exec rm -rf {} + 2>/dev/null || true
    userdel -r "$u" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
for u in "${users[@]}"; do
  useradd -m -s /bin/bash "$u"; chmod 700 "/home/$u"
  install -o "$u" -m 644 "$PREFIX/cifarlab/notebooks/$NB" "/home/$u/$NB"
done
run() { # users...
  local t0 pids=() u max=0 cur rc=0
  t0=$(date +%s)
  for u in "$@"; do
    runuser -u "$u" -- env -i HOME="/home/$u" USER="$u" PATH="$PREFIX/hub/bin:/usr/bin:/bin" CIFARLAB_QUICK=1 CIFARLAB_HUB_GOCACHE="$GOCACHE_MODE" \
      bash -c "cd ~ && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout=1800 --output out.ipynb $NB" >"/tmp/bench-$u.log" 2>&1 &
    pids+=($!)
  done
  while :; do
    cur=$(ps -o rss= -u "$(IFS=,; echo "$*")" 2>/dev/null | awk '{s+=$1} END {print s+0}' || true)
    [ "$cur" -gt "$max" ] && max=$cur
    local alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 1
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  echo "hub bench: $NB quick, $# student(s) at once, Go build cache $GOCACHE_MODE: $(( $(date +%s) - t0 ))s wall, peak RSS of all their processes $((max / 1024)) MiB, $([ $rc = 0 ] && echo 'all executed without errors' || echo 'FAILED (see /tmp/bench-*.log)')"
  return $rc
}
if [ "$CLASS" = --class ]; then
  run "${users[@]}"
  # Again, every Go build cache warm now (a later session of the same class); the saved runs go,
  # so that the training cell trains again.
  for u in "${users[@]}"; do rm -rf "/home/$u/.cache/cifarlab/runs"*; done
  run "${users[@]}"; exit
fi
run "${users[0]}"
# The first user's Go build cache is warm now; the others' are cold, like a class's first run.
run "${users[@]}"
