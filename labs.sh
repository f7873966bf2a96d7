#!/usr/bin/env bash
# Sets up and runs the cifarlab labs.
#
#   ./labs.sh                  set up (once; idempotent) and open Jupyter on notebooks/
#   ./labs.sh pdf [NB.ipynb]   set up, execute notebooks headless, export notebooks/out/NAME.pdf
#   ./labs.sh data [-dir DIR]  load CIFAR-10 and describe it (no Jupyter needed)
#
# Data comes from CIFAR10_DIR, else the per-user cache (downloading the official archive there).
set -euo pipefail
cd "$(dirname "$0")"
# GoMLX's pure-Go backend (used when XLA's plugin is not installed) with its SIMD matrix products.
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
if ! command -v go >/dev/null; then
  echo "labs.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
case "${1:-}" in
  data) shift; exec go run ./cmd/cifarlab data "$@" ;;
esac
kernel-setup/setup.sh
case "${1:-}" in
  pdf)
    shift
    if [ $# -eq 0 ]; then set -- notebooks/lab3.ipynb notebooks/exercise2.ipynb notebooks/compare.ipynb; fi
    exec go run ./notebooks/nbrun -pdf "$@" ;;
  "")
    exec jupyter notebook --notebook-dir=notebooks $([ "$(id -u)" = 0 ] && echo --allow-root) ;;
  *)
    echo "usage: ./labs.sh [pdf [NOTEBOOK.ipynb ...] | data [-dir DIR]]" >&2
    exit 2 ;;
esac
