#!/usr/bin/env bash
# Sets up and runs the cifarlab labs.
# Today: loads CIFAR-10 (from CIFAR10_DIR, else the per-user cache, downloading the official
# archive there if needed) and prints the lab's first cells: where the data came from, shapes,
# value ranges and images per class. The notebooks and the GoNB kernel set-up come next.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go >/dev/null; then
  echo "labs.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
go run ./cmd/cifarlab data "$@"
