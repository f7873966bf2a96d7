#!/usr/bin/env bash
# Runs every test of cifarlab, installing what the tests need first.
# Real-data tests run when CIFAR10_DIR points at a CIFAR-10 folder (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v go >/dev/null; then
  echo "test.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
# Said first, so that whoever runs it can stop it: as root, the run installs system-wide.
if [ "$(id -u)" = 0 ]; then
  echo "test.sh: running as root: it installs Debian packages (apt), and at its end the class hub test installs JupyterHub in /opt/cifarlab and creates Unix users, groups and cgroups for it (removing the users afterwards; hub/test.sh lists them); CIFARLAB_SKIP_HUB=1 skips the hub test"
  [ "${CIFARLAB_SKIP_HUB:-}" = 1 ] && echo "test.sh: CIFARLAB_SKIP_HUB=1: the hub test will be skipped"
fi
# Debian's Python with numpy and scikit-learn cross-checks our pickles against Python's own
# reader and our classification reports against scikit-learn's.
if ! /usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing python3-numpy and python3-sklearn"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-sklearn >/dev/null
  else
    echo "test.sh: /usr/bin/python3 with numpy and sklearn not found; the Python cross-checks will be skipped (apt-get install python3-numpy python3-sklearn)" >&2
  fi
fi
# Jupyter, the GoNB kernel, Chromium and XLA's PJRT CPU plugin (idempotent: seconds when all is
# in place). The keras tests train on XLA with that plugin (package backend starts it) and compare
# it with the Go backend.
kernel-setup/setup.sh
# JupyterLab's export menu (PDF through WebPDF, no Qt items) and settings, over REST (~15 s).
kernel-setup/jupyter-test.sh
# GoMLX's pure-Go backend with its SIMD matrix products (amd64), as labs.sh and the kernel use it.
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
# In CI a missing plugin is a failure, not a skip: the cross-backend tests must run.
if [ "${CI:-}" = true ]; then export CIFARLAB_REQUIRE_XLA=1; fi

# Keras 3 itself (on JAX, no TensorFlow; pinned with hashes) for the side-by-side test of the
# callbacks (keras/callbacks_parity_test.go), in a venv of $CIFARLAB_PYTHON (default
# /usr/bin/python3) per Python version; locked for CPython 3.10 to 3.14 (3.10 gets Keras 3.12.4,
# the last for 3.10). Another Python: one line, and the parity test skips, saying why.
# Idempotent: seconds when in place.
bench/keras/callbacks_venv.sh

go mod download
go vet ./...
# Everything on the default backend: XLA on the CPU when the plugin is installed.
go test -count=1 -timeout 45m ./...
# The race detector where it can run: gomlx/compute's pure-Go matmul trips checkptr under -race
# (written up for upstream in kernel-setup/upstream-notes.md), so the packages that train on it
# are left out here.
go test -race -count=1 ./backend ./cifar ./report ./plots ./internal/... ./cmd/...
# The set-up's own checks: the kernel's go (workspace, missing clone), a damaged PJRT plugin.
kernel-setup/kernel-test.sh
kernel-setup/plugin-test.sh
# The keras package once more on GoMLX's pure-Go backend.
GOMLX_BACKEND=go go test -count=1 -timeout 20m ./keras
# The two backends agree on every x86-64: once more as on a CPU without AVX-512 (XLA limited to
# AVX2, GoMLX's AVX-512 kernels off), and with the Go backend built without SIMD.
GOMLX_SIMD_AVX512=false XLA_FLAGS=--xla_cpu_max_isa=AVX2 go test -count=1 -run BackendsAgree ./keras
GOEXPERIMENT= go test -count=1 -run BackendsAgree ./keras
# A build without XLA (-tags noxla, as with CGO_ENABLED=0) falls back to the pure-Go backend with
# one line, never tries to download the plugin, hangs or crashes.
go vet -tags noxla ./backend ./keras ./lab
go test -count=1 -tags noxla -run 'TestBackendChoice|TestPJRTPluginPath' ./backend
# A short fuzzing run of the pickle reader on top of its seed corpus.
go test -run '^$' -fuzz FuzzDecodePythonBatch -fuzztime "${FUZZTIME:-15s}" -fuzzminimizetime 2s ./cifar

# The notebooks: every notebook executed in quick mode on the GoNB kernel, PDF export and checks
# of the PDFs.
nbrun/test.sh

# The class hub (issues 19, 28): JupyterHub with three students and a teacher as system users, Playwright,
# exercise2 at the same time, isolation, limits, nbgrader's round trip, the idle culler, a clean stop (~6 min;
# skipped, saying so, when not root).
# As root it installs the hub in /opt/cifarlab and creates users, groups and cgroups (it says which
# in one line first); CIFARLAB_SKIP_HUB=1 skips it.
hub/test.sh
