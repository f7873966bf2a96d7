#!/usr/bin/env bash
# Runs every test of cifarlab, installing what the tests need first.
# Real-data tests run when CIFAR10_DIR points at a CIFAR-10 folder (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v go >/dev/null; then
  echo "test.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
# Debian's Python with numpy and scikit-learn cross-checks our pickles against Python's own
# reader and our classification reports against scikit-learn's; OpenBLAS is the fast matrix
# product of the training path, whose tests compare it with GoMLX's own.
if ! /usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null || ! ldconfig -p | grep -q libopenblas.so.0; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing python3-numpy, python3-sklearn and libopenblas0-pthread"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-sklearn libopenblas0-pthread >/dev/null
  else
    echo "test.sh: /usr/bin/python3 with numpy and sklearn not found; the Python cross-checks will be skipped (apt-get install python3-numpy python3-sklearn)" >&2
  fi
fi

go mod download
go vet ./...
go test -count=1 -timeout 45m ./...
# The build with GoMLX's XLA backend linked in: with no PJRT plugin installed it must fall back to
# the pure-Go backend with one line, never try to download the plugin, hang or crash.
go vet -tags xla ./cifar/keras
go test -count=1 -tags xla -run 'Backend' ./cifar/keras
# A short fuzzing run of the pickle reader on top of its seed corpus.
go test -run '^$' -fuzz FuzzDecodePythonBatch -fuzztime "${FUZZTIME:-15s}" -fuzzminimizetime 2s ./cifar

# The notebooks: kernel set-up (idempotent; installs Debian packages when run as root), every
# notebook executed in quick mode on the GoNB kernel, PDF export and checks of the PDFs.
notebooks/test.sh
