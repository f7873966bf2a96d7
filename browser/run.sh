#!/usr/bin/env bash
# The browser test of the labs: JupyterLab (the one kernel-setup/setup.sh installed) on 127.0.0.1
# with a token, driven in Debian's Chromium by Playwright (playwright-core from npm, pinned in
# package-lock.json): exercise2.ipynb in quick mode, Run All, checks of every cell, the live
# training chart, an edited hyperparameter and re-runs (memoized runs loaded, not retrained), the
# WebPDF export checked with pdftotext, and the warm-cell and memoized re-run timings.
#
#   browser/run.sh        (nbrun/test.sh runs it; needs kernel-setup/setup.sh first)
#
# Everything it writes goes to out/browser/ ($CIFARLAB_BROWSER_OUT): screenshots
# (*.png), the exported PDF, the notebook as JupyterLab saved it, timings.json, the server's log.
# The JupyterLab server, its kernels and the browser are stopped on every way out.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/browser"
OUT=${CIFARLAB_BROWSER_OUT:-$ROOT/out/browser}
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
JUPYTER=${JUPYTER:-$JUPYTER_VENV/bin/jupyter}
say() { echo "browser test: $*"; }
fail() { echo "browser test: $*" >&2; exit 1; }

[ -x "$(dirname "$JUPYTER")/jupyter-lab" ] || fail "JupyterLab not found next to $JUPYTER: run kernel-setup/setup.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "chromium not found: run kernel-setup/setup.sh"
for c in node npm curl pdftotext pdfimages python3; do
  command -v "$c" >/dev/null || fail "$c not found (Debian: nodejs npm curl poppler-utils)"
done
if [ -z "${CIFAR10_DIR:-}" ] && [ -d "$ROOT/../shared/cifar10" ]; then
  export CIFAR10_DIR=$(cd "$ROOT/../shared/cifar10" && pwd)
fi

# npm dependencies, from package-lock.json (again only when it changed).
stamp=$(cat "$HERE/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$HERE/node_modules/.cifarlab-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "npm ci (playwright-core)"
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
  echo "$stamp" > "$HERE/node_modules/.cifarlab-stamp"
fi

rm -rf "$OUT"
mkdir -p "$OUT/work" "$OUT/runs" "$OUT/settings/@jupyterlab/notebook-extension" \
  "$OUT/settings/@jupyterlab/apputils-extension" "$OUT/workspaces"
# The notebook under test, in a folder of its own: its first cell points GoNB at this clone.
node - "$ROOT/notebooks/exercise2.ipynb" "$OUT/work/exercise2.ipynb" "$ROOT" <<'EOF'
const fs = require('fs');
const [src, dst, root] = process.argv.slice(2);
const nb = JSON.parse(fs.readFileSync(src, 'utf8'));
const first = nb.cells.find((c) => c.cell_type === 'code');
const text = first.source.join('');
if (!text.includes('"${GONB_DIR}/.."')) throw new Error('first code cell has no "${GONB_DIR}/.."');
first.source = [text.replace('"${GONB_DIR}/.."', JSON.stringify(root))];
fs.writeFileSync(dst, JSON.stringify(nb, null, 1) + '\n');
EOF
# Every cell stays in the page (no virtual scrolling), no news or update checks.
echo '{"windowingMode": "none"}' > "$OUT/settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
echo '{"fetchNews": "false", "checkForUpdates": false}' > "$OUT/settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"

# Stop everything this script started (the server, its kernels and their programs, node, the
# browser): the descendants of this shell, by process id, first politely, then for good.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$$" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q]; if (q == root && p != root) print p } }'
}
cleanup() {
  local rc=$? pids p
  trap - EXIT INT TERM
  if [ -n "${PORT:-}" ]; then
    curl -s -m 5 -X POST -H "Authorization: token $TOKEN" "http://127.0.0.1:$PORT/api/shutdown" >/dev/null 2>&1 || true
  fi
  pids=$(descendants | grep -vx "$BASHPID" || true)
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
  [ -n "${PROFILE:-}" ] && rm -rf "$PROFILE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/cifarlab-chromium-XXXXXX")   # the browser's fresh profile
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
say "JupyterLab on 127.0.0.1:$PORT ($("$JUPYTER" lab --version)), log $OUT/jupyterlab.log"
CIFARLAB_QUICK=1 CIFARLAB_RUNS_DIR="$OUT/runs" \
  JUPYTERLAB_SETTINGS_DIR="$OUT/settings" JUPYTERLAB_WORKSPACES_DIR="$OUT/workspaces" \
  "$JUPYTER" lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" \
    --ServerApp.port_retries=0 --IdentityProvider.token="$TOKEN" --ServerApp.root_dir="$OUT/work" \
    --LabApp.extension_manager=readonly --allow-root >"$OUT/jupyterlab.log" 2>&1 &
for _ in $(seq 120); do
  curl -sf -m 2 -H "Authorization: token $TOKEN" "http://127.0.0.1:$PORT/api/status" >/dev/null 2>&1 && break
  kill -0 $! 2>/dev/null || { tail -20 "$OUT/jupyterlab.log" >&2; fail "JupyterLab exited"; }
  sleep 0.5
done

cd "$HERE"
rc=0
# In the background, so that a signal to this script runs its traps at once (bash runs them only
# after a foreground child has exited, but interrupts `wait`).
LAB_URL="http://127.0.0.1:$PORT" LAB_TOKEN="$TOKEN" CHROMIUM="$CHROMIUM" CHROMIUM_PROFILE="$PROFILE" OUT="$OUT" \
  CIFARLAB_RUNS_DIR="$OUT/runs" node --test --test-concurrency=1 --test-timeout=420000 test.mjs &
wait $! || rc=$?
if [ "$rc" = 0 ]; then say "screenshots: $(cd "$OUT" && ls *.png | tr '\n' ' ')"; fi
exit "$rc"
