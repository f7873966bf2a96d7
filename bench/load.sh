#!/usr/bin/env bash
# Measures CIFAR-10 loading: Go (pickle decode, flat-cache read-back) against pickle + numpy,
# each in a fresh process, three runs each. Usage: bash bench/load.sh [CIFAR10 folder]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${CIFAR10_DIR:-../shared/cifar10}}
go build -o /tmp/cifarlab-bench-load ./bench/load
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
cat "$dir"/cifar-10-batches-py/* > /dev/null 2>&1 || true  # warm the page cache for everyone
for i in 1 2 3; do /tmp/cifarlab-bench-load -dir "$dir"; done
/tmp/cifarlab-bench-load -dir "$dir" -flat -cache "$cache" >/dev/null
for i in 1 2 3; do /tmp/cifarlab-bench-load -dir "$dir" -flat -cache "$cache"; done
for i in 1 2 3; do /usr/bin/python3 bench/load_numpy.py "$dir"; done
