#!/usr/bin/env bash
# Tests JupyterLab as kernel-setup/setup.sh leaves it, over its REST API, as the menu uses it:
#   - GET /api/nbconvert (the File > Save and Export Notebook As menu) lists no qtpdf/qtpng;
#   - every format of that menu exports smoke.ipynb (nbrun/testdata/smoke.ipynb, the machinery's
#     notebook, with its saved outputs: text, images, a long line) without a server error;
#   - /nbconvert/pdf/smoke.ipynb and /nbconvert/webpdf/smoke.ipynb are application/pdf, their text
#     has the notebook's first heading, and they have the same number of pages;
#   - the settings API gives @jupyterlab/apputils-extension:notification fetchNews "false" and
#     checkForUpdates false (no "official Jupyter news?" question), and the page says news are off.
# It starts the environment's `jupyter lab` on 127.0.0.1 at a free port, with the token in
# JUPYTER_TOKEN (not on the command line), root_dir a temporary folder holding a copy of the smoke
# notebook (nothing of the clone is served or written), its own config and runtime folders (the
# user's ~/.jupyter settings stay out of it), and shuts it down through /api/shutdown.
# Needs the set-up done (kernel-setup/setup.sh) and curl, pdftotext, pdfinfo. About 10 s.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
NB=smoke.ipynb
NB_SRC="$REPO/nbrun/testdata/$NB"
HEADING=$(python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["cells"]:
    if c["cell_type"] == "markdown":
        for line in "".join(c["source"]).splitlines():
            if line.startswith("#"):
                print(line.lstrip("#").strip()); sys.exit()
sys.exit("no heading")' "$NB_SRC")

fail=0
pass=0
ok()  { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }

[ -x "$JUPYTER_VENV/bin/jupyter-lab" ] || { echo "jupyter-test.sh: no JupyterLab in $JUPYTER_VENV: run kernel-setup/setup.sh" >&2; exit 1; }
for b in curl pdftotext pdfinfo; do
  command -v "$b" >/dev/null || { echo "jupyter-test.sh: $b not found (kernel-setup/setup.sh installs poppler-utils)" >&2; exit 1; }
done

TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir "$TMP/root"
cp "$NB_SRC" "$TMP/root/"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export JUPYTER_TOKEN
JUPYTER_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0
      --ServerApp.root_dir="$TMP/root")
[ "$(id -u)" = 0 ] && args+=(--allow-root)
t0=$(date +%s)
JUPYTER_CONFIG_DIR="$TMP/config" JUPYTER_RUNTIME_DIR="$TMP/runtime" \
  "$JUPYTER_VENV/bin/jupyter" lab "${args[@]}" >"$TMP/server.log" 2>&1 &
PID=$!
URL="http://127.0.0.1:$PORT"
get() { # path [curl args...]: the body on stdout; $TMP/code the status, $TMP/type the Content-Type
  local path=$1; shift
  curl -sS --max-time 60 -H "Authorization: token $JUPYTER_TOKEN" -D "$TMP/headers" "$@" "$URL$path" \
    && sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$TMP/headers" | tail -1 | tr -d '\r' >"$TMP/code" \
    && { grep -i '^content-type:' "$TMP/headers" | tail -1 | cut -d' ' -f2- | tr -d '\r'; } >"$TMP/type"
}
for _ in $(seq 1 120); do
  curl -s -o /dev/null --max-time 2 -H "Authorization: token $JUPYTER_TOKEN" "$URL/api/status" && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/server.log" >&2; echo "jupyter-test.sh: jupyter lab exited" >&2; exit 1; }
  sleep 0.5
done
echo "jupyter-test.sh: JupyterLab at $URL (started in $(( $(date +%s) - t0 ))s), root_dir $TMP/root ($NB_SRC)"
if grep -q -- "$JUPYTER_TOKEN" /proc/"$PID"/cmdline 2>/dev/null; then bad "the token is on jupyter's command line"; fi

# The export menu: nbconvert's exporters less the disabled ones (JupyterLab leaves out notebook,
# python and custom itself).
get /api/nbconvert >"$TMP/formats.json"
formats=$(python3 -c 'import json, sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$TMP/formats.json")
echo "  formats: $formats"
for f in qtpdf qtpng; do
  if [[ " $formats " == *" $f "* ]]; then bad "/api/nbconvert lists $f"; else ok "/api/nbconvert has no $f"; fi
done
for f in pdf webpdf; do
  [[ " $formats " == *" $f "* ]] || bad "/api/nbconvert does not list $f"
done

# Every format of the menu answers 200 for the smoke notebook.
for f in $formats; do
  case $f in notebook|python|custom) continue ;; esac  # not in JupyterLab's menu
  get "/nbconvert/$f/$NB?download=true" -o "$TMP/out.$f" || true
  code=$(cat "$TMP/code" 2>/dev/null || echo none)
  if [ "$code" = 200 ] && [ -s "$TMP/out.$f" ]; then ok "export $f: 200 ($(cat "$TMP/type"), $(wc -c <"$TMP/out.$f") bytes)"
  else bad "export $f: HTTP $code"; fi
done

# PDF (the first PDF item) and WebPDF: PDFs with the notebook's heading, the same pages.
pages=()
for f in pdf webpdf; do
  get "/nbconvert/$f/$NB?download=true" -o "$TMP/$f.pdf" || true
  type=$(cat "$TMP/type" 2>/dev/null || true)
  [[ "$type" == application/pdf* ]] && ok "$f: Content-Type $type" || bad "$f: Content-Type $type (want application/pdf)"
  if ! head -c 5 "$TMP/$f.pdf" | grep -q '%PDF-'; then bad "$f: not a PDF (HTTP $(cat "$TMP/code"))"; pages+=(0); continue; fi
  if pdftotext "$TMP/$f.pdf" - | grep -qF "$HEADING"; then ok "$f: the text has \"$HEADING\""
  else bad "$f: the text lacks \"$HEADING\""; fi
  pages+=("$(pdfinfo "$TMP/$f.pdf" | awk '/^Pages:/ {print $2}')")
done
if [ "${pages[0]}" = "${pages[1]}" ] && [ "${pages[0]}" -gt 0 ]; then ok "pdf and webpdf: ${pages[0]} pages each"
else bad "pdf has ${pages[0]} pages, webpdf ${pages[1]}"; fi

# No news question: the settings that JupyterLab's page reads, and the page config.
get "/lab/api/settings/@jupyterlab/apputils-extension:notification" >"$TMP/settings.json"
if python3 - "$TMP/settings.json" <<'EOF'
import json, sys
# What the page uses: the schema's defaults (where overrides.json has changed them), then the
# user's settings (none: this server has a config folder of its own).
d = json.load(open(sys.argv[1]))
s = {k: p.get("default") for k, p in d["schema"]["properties"].items()}
s.update(d.get("settings") or {})
print("  notification settings:", json.dumps(s))
sys.exit(0 if s.get("fetchNews") == "false" and s.get("checkForUpdates") is False else 1)
EOF
then ok "notification settings: fetchNews \"false\", checkForUpdates false"
else bad "notification settings: the news question would be asked"; fi
get /lab >"$TMP/lab.html"
if grep -q '"news": {"disabled": true}' "$TMP/lab.html"; then ok "the lab page's config: news disabled"
else bad "the lab page's config does not disable news"; fi

# Shut down cleanly.
curl -sS -o /dev/null --max-time 10 -X POST -H "Authorization: token $JUPYTER_TOKEN" "$URL/api/shutdown" || true
for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$PID" 2>/dev/null; then bad "jupyter lab did not stop after /api/shutdown"
else wait "$PID" 2>/dev/null || true; PID=""; ok "jupyter lab stopped through /api/shutdown"; fi
if grep -q 'Traceback\|\[E ' "$TMP/server.log"; then
  bad "the server logged errors:"; grep -A12 'Traceback\|\[E ' "$TMP/server.log" | head -40
fi

echo "jupyter-test: $pass passed, $fail failed ($(( $(date +%s) - t0 ))s)"
[ "$fail" = 0 ]
