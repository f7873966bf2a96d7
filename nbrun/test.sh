#!/usr/bin/env bash
# Tests the notebooks and their machinery, as CI does:
#   1. kernel-setup/setup.sh: Jupyter, the gonb kernel, Chromium... (idempotent: a few seconds
#      when everything is in place);
#   2. the Go tests of nbrun with CIFARLAB_NOTEBOOK_TESTS=1: every notebooks/*.ipynb runs
#      in quick mode (CIFARLAB_QUICK=1) on the gonb kernel, with no failed cell and its charts
#      shown, and exports to a PDF that holds its headings; the runner must fail on a panicking
#      cell and on a missing chart (nbrun/testdata/);
#   3. the browser test (browser/run.sh): exercise2.ipynb in JupyterLab, driven in
#      Chromium by Playwright; screenshots and the exported PDF in out/browser/.
# The notebooks load CIFAR-10 from CIFAR10_DIR, else the per-user cache (.ci/run sets CIFAR10_DIR).
# Executed notebooks, PDFs and page PNGs stay in out/test/ (CIFARLAB_NOTEBOOK_OUT overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

kernel-setup/setup.sh
export GOEXPERIMENT=${GOEXPERIMENT:-simd}   # as test.sh and labs.sh
# nbrun uses the nbconvert of the JupyterLab that setup.sh installed (Debian's where it fell back).
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
if [ -z "${JUPYTER:-}" ] && [ -x "$JUPYTER_VENV/bin/jupyter-lab" ] && [ "${CIFARLAB_JUPYTER:-}" != apt ]; then
  export JUPYTER="$JUPYTER_VENV/bin/jupyter"
fi
if [ -z "${CIFAR10_DIR:-}" ] && [ -d ../shared/cifar10 ]; then
  export CIFAR10_DIR=$(cd ../shared/cifar10 && pwd)   # as .ci/run does
fi
export CIFARLAB_NOTEBOOK_TESTS=1 CIFARLAB_QUICK=1
export CIFARLAB_NOTEBOOK_OUT=${CIFARLAB_NOTEBOOK_OUT:-$PWD/out/test}
rm -rf "$CIFARLAB_NOTEBOOK_OUT"
go test -count=1 -timeout 60m -v ./nbrun/...

# JupyterLab in a real browser (skipped, with a note, where setup.sh fell back to the classic
# Notebook because PyPI was out of reach).
if [ -x "$JUPYTER_VENV/bin/jupyter-lab" ]; then
  browser/run.sh
else
  echo "nbrun/test.sh: JupyterLab is not installed (setup.sh fell back to the classic Notebook): browser test skipped"
fi
