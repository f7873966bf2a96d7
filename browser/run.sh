#!/usr/bin/env bash
# The browser test of the labs (issue 18): JupyterLab (the one kernel-setup/setup.sh installed) on
# 127.0.0.1 with a token, driven in Debian's Chromium by Playwright (playwright-core from npm,
# pinned in package-lock.json), clicking as a student would: a new "Go (gonb)" notebook from the
# Launcher with a three-layer keras model trained by lab.Fit; exercise2.ipynb Run All, a layer's
# units edited in the page and Run All (only that training again), Run All unchanged (loaded);
# File > Save and Export Notebook As > PDF, checked with pdftotext; a copy of lab3.ipynb set to train
# long (quick mode off in its kernel: GoNB's %env CIFARLAB_QUICK=0): Run All, Kernel > Interrupt
# Kernel during the training (issue 22): the kernel idle within seconds, nothing trained or saved,
# one line per cell. See browser/README.md.
#
#   bash browser/run.sh        (nbrun/test.sh runs it; needs kernel-setup/setup.sh first)
#
# Everything it writes goes to out/browser/ ($CIFARLAB_BROWSER_OUT): screenshots (*.png), the
# downloaded PDF, the notebooks as JupyterLab saved them (work/), the memoized runs (runs/),
# timings.json, the server's log. The notebooks in notebooks/ are only copied, never changed.
# The JupyterLab server, its kernels and the browser are stopped on every way out.
set -euo pipefail
T0=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/browser"
OUT=${CIFARLAB_BROWSER_OUT:-$ROOT/out/browser}
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
JUPYTER=${JUPYTER:-$JUPYTER_VENV/bin/jupyter}
NB="$ROOT/notebooks/exercise2.ipynb"
NB3="$ROOT/notebooks/lab3.ipynb"   # read by test.mjs, which writes its long-training copy into work/
say() { echo "browser test: $*"; }
fail() { echo "browser test: FAIL: $*" >&2; exit 1; }

[ -x "$(dirname "$JUPYTER")/jupyter-lab" ] || fail "JupyterLab not found next to $JUPYTER: run kernel-setup/setup.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "chromium not found: run kernel-setup/setup.sh"
for c in node npm curl pdftotext pdfimages python3 sha256sum flock; do
  command -v "$c" >/dev/null || fail "$c not found (Debian: nodejs npm curl poppler-utils)"
done
if [ -z "${CIFAR10_DIR:-}" ] && [ -d "$ROOT/../shared/cifar10" ]; then
  export CIFAR10_DIR=$(cd "$ROOT/../shared/cifar10" && pwd)
fi

# One browser test at a time per output folder (./test.sh run by two people in one clone would
# otherwise delete each other's server folder and node_modules): the second waits for the first.
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
if ! flock -n 9; then
  say "another browser test writes $OUT; waiting for it (at most 15 min)"
  flock -w 900 9 || fail "another browser test still holds $OUT.lock"
fi
# npm dependencies, from package-lock.json (again only when it changed).
stamp=$(cat "$HERE/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$HERE/node_modules/.cifarlab-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "npm ci (playwright-core)"
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
  echo "$stamp" > "$HERE/node_modules/.cifarlab-stamp"
fi

rm -rf "$OUT"
mkdir -p "$OUT/work" "$OUT/runs" "$OUT/settings/@jupyterlab/notebook-extension" "$OUT/workspaces"
# The notebook under test, as it is in the repository (the kernel finds this clone by itself),
# in the server's folder; the repository's file must come out of the test unchanged.
cp "$NB" "$OUT/work/"
NB_SUM=$(cat "$NB" "$NB3" | sha256sum)
# A new user's settings, but every cell stays in the page (no virtual scrolling: the test reads
# every cell's output). News and update checks are left to the installed overrides.json.
echo '{"windowingMode": "none"}' > "$OUT/settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"

# The token, for curl without putting it on a command line.
auth() { printf 'header = "Authorization: token %s"\n' "$JUPYTER_TOKEN"; }

# Stop everything this script started (the server, its kernels and their programs, node, the
# browser): the processes started here ($SERVER, $NODE), their descendants and whatever runs in
# their sessions (jupyter_client starts each kernel in a session of its own, gopls its telemetry
# too, and they outlive a killed parent), by process id, first politely, then for good.
ours() { # PID...: those processes, their descendants, and the members of the sessions they lead
  ps -e -o pid=,ppid=,sid= | awk -v roots="$*" -v mysid="$(ps -o sid= -p $$ | tr -d ' ')" '
    BEGIN { n = split(roots, a, " "); for (i = 1; i <= n; i++) root[a[i]] = 1 }
    { pid[NR] = $1; parent[$1] = $2; sid[$1] = $3 }
    END {
      for (i = 1; i <= NR; i++) { p = pid[i]; q = p
        while (!(q in root) && (q in parent) && q > 1) q = parent[q]
        if (q in root) { mine[p] = 1; if (sid[p] != mysid) lead[sid[p]] = 1 } }
      for (i = 1; i <= NR; i++) { p = pid[i]; if ((p in mine) || (sid[p] in lead)) print p }
    }'
}
cleanup() {
  local rc=$? pids p alive=""
  trap - EXIT INT TERM
  pids=$(ours ${SERVER:-} ${NODE:-})
  if [ -n "${PORT:-}" ]; then
    curl -s -m 5 -K <(auth) -X POST "http://127.0.0.1:$PORT/api/shutdown" >/dev/null 2>&1 || true
    for _ in $(seq 25); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.2; done
  fi
  pids=$(ours ${SERVER:-} ${NODE:-} $pids)
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
      alive=""
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
      [ -z "$alive" ] && break
      sleep 0.2
    done
    [ -n "$alive" ] && kill -KILL $alive 2>/dev/null || true
  fi
  [ -n "${PROFILE:-}" ] && rm -rf "$PROFILE" "$JDIRS"
  left=$(ours $pids)
  [ -z "$left" ] || { echo "browser test: processes left running: $left" >&2; rc=1; }
  if [ "$rc" = 0 ] && [ "$(cat "$NB" "$NB3" | sha256sum)" != "$NB_SUM" ]; then
    echo "browser test: notebooks/exercise2.ipynb or lab3.ipynb changed during the test" >&2; rc=1
  fi
  if [ "$rc" = 0 ]; then
    say "PASS in $(( $(date +%s) - T0 )) s (server, kernels and browser stopped); screenshots, PDF: $OUT"
  else
    echo "browser test: FAIL (exit $rc) after $(( $(date +%s) - T0 )) s; screenshots and logs: $OUT" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/cifarlab-chromium-XXXXXX")   # the browser's fresh profile
JDIRS=$(mktemp -d "${TMPDIR:-/tmp}/cifarlab-jupyter-XXXXXX")       # the server's config, runtime
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export JUPYTER_TOKEN
JUPYTER_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0
      --ServerApp.root_dir="$OUT/work" --LabApp.extension_manager=readonly)
[ "$(id -u)" = 0 ] && args+=(--allow-root)
say "JupyterLab $("$JUPYTER" lab --version) on 127.0.0.1:$PORT, log $OUT/jupyterlab.log"
# Quick mode (package lab applies it in every kernel: 2,000 training images, 3 epochs at most; the
# interrupt step's notebook turns it off in its own kernel), a fresh folder of memoized runs, its
# own settings, workspaces, config and runtime folders (the user's ~/.jupyter stays out of it); the
# token only in the environment.
CIFARLAB_QUICK=1 CIFARLAB_RUNS_DIR="$OUT/runs" \
  JUPYTERLAB_SETTINGS_DIR="$OUT/settings" JUPYTERLAB_WORKSPACES_DIR="$OUT/workspaces" \
  JUPYTER_CONFIG_DIR="$JDIRS/config" JUPYTER_RUNTIME_DIR="$JDIRS/runtime" \
  "$JUPYTER" lab "${args[@]}" >"$OUT/jupyterlab.log" 2>&1 9>&- &
SERVER=$!
for _ in $(seq 120); do
  curl -sf -m 2 -K <(auth) "http://127.0.0.1:$PORT/api/status" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { tail -20 "$OUT/jupyterlab.log" >&2; fail "JupyterLab exited"; }
  sleep 0.5
done
curl -sf -m 2 -K <(auth) "http://127.0.0.1:$PORT/api/status" >/dev/null || fail "JupyterLab did not answer in 60 s"

cd "$HERE"
rc=0
# In the background, so that a signal to this script runs its traps at once (bash runs them only
# after a foreground child has exited, but interrupts `wait`).
LAB_URL="http://127.0.0.1:$PORT" LAB_TOKEN="$JUPYTER_TOKEN" CHROMIUM="$CHROMIUM" CHROMIUM_PROFILE="$PROFILE" \
  OUT="$OUT" CIFARLAB_RUNS_DIR="$OUT/runs" JUPYTER_TOKEN= \
  node --test --test-concurrency=1 --test-timeout=420000 --test-reporter=spec test.mjs 9>&- &
NODE=$!
wait "$NODE" || rc=$?
[ "$(cat "$OUT/result" 2>/dev/null)" = pass ] || { [ "$rc" != 0 ] || rc=1; }
if [ "$rc" = 0 ]; then say "screenshots: $(cd "$OUT" && ls *.png | tr '\n' ' ')"; fi
exit "$rc"
