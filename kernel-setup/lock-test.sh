#!/usr/bin/env bash
# Tests kernel-setup/requirements.txt against the Pythons that setup.sh accepts:
#   1. PyPI has a wheel of every pinned package for each Python version from MIN_PYTHON to
#      MAX_PYTHON of setup.sh, on Linux x86-64 and aarch64 (uv pip install --dry-run, from uv in a
#      throwaway virtual environment; skipped with --no-wheels);
#   2. every Python on this machine (python3 on PATH, /usr/bin/python3*, /usr/local/bin/python3*,
#      pyenv's versions): setup.sh installs JupyterLab with it (CIFARLAB_PYTHON, a virtual
#      environment of its own), jupyter-test.sh passes on that environment (skipped with
#      --no-serve), and nbrun executes notebooks/exercise2.ipynb in quick mode with its nbconvert
#      into a PDF with "Test accuracy" (as ./labs.sh pdf does; skipped with --no-pdf, or without
#      the data set: $CIFAR10_DIR, else ../shared/cifar10) when it is in the range; setup.sh
#      refuses it in one line when it is older.
# Usage: kernel-setup/lock-test.sh [--no-wheels] [--no-serve] [--no-pdf] [PYTHON...]
# (PYTHON...: only these). Runs as any user, with the GoNB kernel that setup.sh registered.
# About 3 min per Python (downloads, the server test, the PDF).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MIN_PYTHON=$(sed -n 's/^MIN_PYTHON=\([0-9.]*\).*/\1/p' "$HERE/setup.sh")
MAX_PYTHON=$(sed -n 's/^MAX_PYTHON=\([0-9.]*\).*/\1/p' "$HERE/setup.sh")
LAB=$(sed -n 's/^jupyterlab==\([^ ;]*\).*/\1/p' "$HERE/requirements.txt" | sort -u)
[ "$(wc -l <<<"$LAB")" = 1 ] || { echo "lock-test.sh: requirements.txt pins more than one JupyterLab: $LAB" >&2; exit 1; }
WHEELS=1 SERVE=1 PDF=1 PYTHONS=()
for a in "$@"; do
  case "$a" in
    --no-wheels) WHEELS=0 ;;
    --no-serve) SERVE=0 ;;
    --no-pdf) PDF=0 ;;
    -*) echo "usage: $0 [--no-wheels] [--no-serve] [--no-pdf] [PYTHON...]" >&2; exit 2 ;;
    *) PYTHONS+=("$a") ;;
  esac
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }
REPO=$(cd "$HERE/.." && pwd)
DATA=${CIFAR10_DIR:-$REPO/../shared/cifar10}
if [ "$PDF" = 1 ] && [ ! -d "$DATA" ]; then echo "lock-test: no data set at $DATA (CIFAR10_DIR): no PDFs"; PDF=0; fi
t0=$(date +%s)
echo "lock-test: kernel-setup/requirements.txt (JupyterLab $LAB) for Python $MIN_PYTHON to $MAX_PYTHON"

if [ "$WHEELS" = 1 ]; then
  python3 -m venv "$TMP/uv" && "$TMP/uv/bin/pip" install --quiet --disable-pip-version-check uv==0.13.9
  minor=${MIN_PYTHON#3.}
  while [ "$minor" -le "${MAX_PYTHON#3.}" ]; do
    for platform in x86_64-manylinux_2_28 aarch64-manylinux_2_28; do
      if "$TMP/uv/bin/uv" pip install --dry-run --quiet --target "$TMP/target" --python-version "3.$minor" \
           --python-platform "$platform" --only-binary :all: --no-deps --require-hashes \
           -r "$HERE/requirements.txt" >"$TMP/uv.log" 2>&1; then
        ok "wheels for Python 3.$minor on $platform"
      else
        bad "wheels for Python 3.$minor on $platform: $(grep -v '^ *$' "$TMP/uv.log" | head -3 | tr '\n' ' ')"
      fi
    done
    minor=$((minor + 1))
  done
fi

if [ ${#PYTHONS[@]} = 0 ]; then
  for p in python3 /usr/bin/python3* /usr/local/bin/python3* "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/*/bin/python3; do
    case "$p" in *-config|*m) continue ;; esac
    [ -x "$p" ] || p=$(command -v "$p" 2>/dev/null) || continue
    PYTHONS+=("$p")
  done
fi
declare -A seen=()
for p in "${PYTHONS[@]}"; do
  # One run per interpreter: the same binary under several names once (pyenv's shims are scripts:
  # compare what they run).
  real=$("$p" -c 'import sys; print(sys.executable)' 2>/dev/null | xargs readlink -f 2>/dev/null) || continue
  [ -n "${seen[$real]:-}" ] && continue
  seen[$real]=1
  v=$("$p" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || continue
  venv="$TMP/venv-$v"
  echo "== Python $v ($p)"
  t1=$(date +%s)
  rc=0
  CIFARLAB_PYTHON=$p CIFARLAB_JUPYTER=pip CIFARLAB_JUPYTER_VENV=$venv "$HERE/setup.sh" >"$TMP/setup.log" 2>&1 || rc=$?
  if "$p" -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$MIN_PYTHON'.split('.'))))"; then
    if [ "$rc" = 0 ] && grep -q "Jupyter: JupyterLab $LAB " "$TMP/setup.log"; then
      ok "Python $v: setup.sh installed JupyterLab $LAB ($(( $(date +%s) - t1 ))s)"
      if [ "$SERVE" = 1 ]; then
        if CIFARLAB_JUPYTER_VENV=$venv "$HERE/jupyter-test.sh" >"$TMP/serve.log" 2>&1; then ok "Python $v: $(tail -1 "$TMP/serve.log")"
        else bad "Python $v: jupyter-test.sh failed:"; grep -E 'FAIL|jupyter-test' "$TMP/serve.log" | head -20; fi
      fi
      if [ "$PDF" = 1 ]; then
        t1=$(date +%s)
        if (cd "$REPO" && CIFARLAB_JUPYTER_VENV=$venv JUPYTER=$venv/bin/jupyter CIFARLAB_QUICK=1 CIFAR10_DIR=$DATA \
              GOEXPERIMENT=${GOEXPERIMENT:-simd} go run ./nbrun -pdf -out "$TMP/out-$v" notebooks/exercise2.ipynb) >"$TMP/pdf.log" 2>&1 \
           && pdftotext "$TMP/out-$v/exercise2.pdf" - 2>/dev/null | grep -q 'Test accuracy'; then
          ok "Python $v: nbrun made exercise2.pdf with \"Test accuracy\" ($(( $(date +%s) - t1 ))s)"
        else
          bad "Python $v: no exercise2.pdf with \"Test accuracy\":"; tail -15 "$TMP/pdf.log"
        fi
        rm -rf "$TMP/out-$v"
      fi
    else
      bad "Python $v: setup.sh exited $rc:"; grep -E 'MISSING|Jupyter:' "$TMP/setup.log" | head -5
    fi
  else
    if [ "$rc" != 0 ] && grep -q "MISSING  JupyterLab 4 could not be installed: no Python $MIN_PYTHON or later found" "$TMP/setup.log"; then
      ok "Python $v: refused in one line: $(grep -m1 'could not be installed' "$TMP/setup.log" | cut -c1-150)..."
    else
      bad "Python $v: setup.sh exited $rc without the line that refuses it:"; grep -E 'MISSING|Jupyter:' "$TMP/setup.log" | head -5
    fi
  fi
  rm -rf "$venv"
done

echo "lock-test: $pass passed, $fail failed ($(( $(date +%s) - t0 ))s)"
[ "$fail" = 0 ]
