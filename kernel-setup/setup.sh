#!/usr/bin/env bash
# Sets up everything the cifarlab notebooks need, once per user and machine:
#   - JupyterLab 4 and nbconvert 7 from PyPI, pinned with their hashes in requirements.txt, in a
#     virtual environment in ${XDG_DATA_HOME:-~/.local/share}/cifarlab/jupyter, with settings that
#     make the WebPDF export print with the system Chromium, offline (JupyterLab's "PDF" item too,
#     through the server extension jupyter/cifarlab_jupyter.py), that hide the exports that cannot
#     work here and JupyterLab's news question; Debian's classic Notebook 6
#     only as the fallback where PyPI cannot be reached (the set-up says which it chose);
#   - the Go tools of the GoNB kernel, pinned in kernel-setup/tools/go.mod (gonb, gopls,
#     goimports), built into a per-user bin folder;
#   - the GoNB kernel ("gonb"), registered with Jupyter through a wrapper that puts that bin folder
#     and Go on PATH, whatever PATH Jupyter itself was started with;
#   - XLA's PJRT CPU plugin (pinned by version and SHA-256 in pjrt-requirements.txt), downloaded from
#     PyPI once and unpacked into ${XDG_DATA_HOME:-~/.local/share}/cifarlab/pjrt: with it, training
#     runs on XLA; without it, on GoMLX's pure-Go backend (a few times slower);
#   - what the PDF export needs: Chromium, MathJax (libjs-mathjax), poppler-utils, fonts.
# It is idempotent: a second run checks, finds everything in place and changes nothing.
#
# Usage: kernel-setup/setup.sh           set up (or check that all is in place)
#        kernel-setup/setup.sh --check   only check; say what is missing; exit 1 if anything is
#        kernel-setup/setup.sh --with-tex  also install XeLaTeX + pandoc for `nbconvert --to pdf`
#                                          (large; the Chromium PDF export does not need it)
# Environment:
#   CIFARLAB_TOOLS_DIR  where the Go tools go (default ${XDG_DATA_HOME:-~/.local/share}/cifarlab/gonb-tools)
#   JUPYTER_DATA_DIR    Jupyter's data folder, as Jupyter itself reads it (kernels/gonb goes there)
#   CIFARLAB_JUPYTER    auto (default: pip, else Debian's as a fallback), pip (no fallback) or apt
#   CIFARLAB_JUPYTER_VENV  the JupyterLab virtual environment (default
#                          ${XDG_DATA_HOME:-~/.local/share}/cifarlab/jupyter)
#   CIFARLAB_PYTHON     the Python 3.9+ that makes it (default: python3 on PATH, else Debian's)
#   CIFARLAB_PJRT_PLUGIN  where the PJRT CPU plugin goes (default
#                         ${XDG_DATA_HOME:-~/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)  # this clone: every notebook's kernel builds cells against it
MODE=setup
WITH_TEX=0
for arg in "$@"; do
  case "$arg" in
    --check) MODE=check ;;
    --with-tex) WITH_TEX=1 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

TOOLS_DIR=${CIFARLAB_TOOLS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/gonb-tools}
BIN="$TOOLS_DIR/bin"
STAMP="$TOOLS_DIR/stamp"

MISSING=()   # plain-words descriptions of what is missing (check mode), or failed (setup mode)
ok()      { printf '  ok       %s\n' "$*"; }
doing()   { printf '  install  %s\n' "$*"; }
missing() { MISSING+=("$*"); printf '  MISSING  %s\n' "$*"; }
info()    { printf '  note     %s\n' "$*"; }
die()     { echo "setup.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Debian packages.
JUPYTER_PACKAGES=(jupyter-nbconvert jupyter-client jupyter-notebook python3-ipykernel)
PDF_PACKAGES=(
  chromium libjs-mathjax fonts-mathjax libjs-requirejs  # HTML -> PDF, offline
  poppler-utils fonts-dejavu-core fonts-liberation      # PDF checks, fonts
)
TEX_PACKAGES=(texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc)

have_deb() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
have_apt() { command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}
can_root() { [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; }

apt_install() { # packages...
  local want=()
  for p in "$@"; do have_deb "$p" || want+=("$p"); done
  [ ${#want[@]} = 0 ] && return 0
  if [ "$MODE" = check ]; then
    missing "Debian packages not installed: ${want[*]}: run kernel-setup/setup.sh"
    return 0
  fi
  if ! can_root; then
    missing "Debian packages not installed: ${want[*]}: run  sudo apt-get install ${want[*]}"
    return 0
  fi
  doing "Debian packages: ${want[*]}"
  # Update the package lists when they were not updated in the last day (apt's cache file is
  # rewritten by each update), and once more when the install fails anyway.
  if [ -z "$(find /var/cache/apt/pkgcache.bin -mmin -1440 2>/dev/null)" ]; then
    as_root apt-get update -qq || echo "setup.sh: apt-get update failed; trying the install anyway" >&2
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; then
    as_root apt-get update -qq || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
      || missing "apt-get install ${want[*]} failed"
  fi
}

# ---------------------------------------------------------------------------------------------
# Jupyter. By default JupyterLab 4 and nbconvert 7, pinned with their hashes in requirements.txt,
# in a virtual environment of their own ($JUPYTER_VENV). Debian's classic Notebook 6 and
# nbconvert 6 only where PyPI cannot be reached (or with CIFARLAB_JUPYTER=apt).
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
JUPYTER_REQ="$HERE/requirements.txt"
WEBPDF_CONFIG="$HERE/jupyter/webpdf_config.py"
JUPYTER_KIND=""   # what was chosen: "JupyterLab (pip)" or "classic Notebook (Debian)"

has_sub() { [ -x "$(dirname "$1")/jupyter-$2" ] || command -v "jupyter-$2" >/dev/null; }

# A jupyter command with nbconvert and a notebook server (classic or JupyterLab): $JUPYTER,
# Debian's, pip's --user one (the fallbacks, when the virtual environment is not in use).
find_other_jupyter() {
  local j v
  for j in "${JUPYTER:-}" /usr/bin/jupyter "$HOME/.local/bin/jupyter"; do
    [ -n "$j" ] && [ -x "$j" ] || continue
    # `jupyter X` runs the script jupyter-X found next to jupyter or on PATH.
    has_sub "$j" nbconvert && { has_sub "$j" notebook || has_sub "$j" lab; } || continue
    v=$(PYDEVD_DISABLE_FILE_VALIDATION=1 "$j" --version 2>/dev/null) || continue
    if grep -Eq '^nbconvert +: [0-9]' <<<"$v"; then
      echo "$j"
      return 0
    fi
  done
  return 1
}

venv_stamp() { # what the environment was built from: the requirements and the Python
  { grep -v '^ *#' "$JUPYTER_REQ"; "$JUPYTER_VENV/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null; } | sha256sum | cut -d' ' -f1
}

venv_ok() {
  [ -x "$JUPYTER_VENV/bin/jupyter-lab" ] && [ -x "$JUPYTER_VENV/bin/jupyter-nbconvert" ] \
    && [ "$(cat "$JUPYTER_VENV/cifarlab-stamp" 2>/dev/null)" = "$(venv_stamp)" ]
}

# The files that set up JupyterLab and nbconvert, copied from kernel-setup/jupyter into the virtual
# environment and compared with the repository's on every run:
#   - webpdf_config.py as etc/jupyter/jupyter_server_config.py and jupyter_nbconvert_config.py:
#     WebPDF prints with the system Chromium, offline; Qt PDF/PNG hidden; the extension enabled;
#   - templates/cifarlab_webpdf: the WebPDF template with the print CSS;
#   - cifarlab_jupyter.py into site-packages: the server extension that serves JupyterLab's
#     "PDF" export (/nbconvert/pdf) with WebPDF instead of LaTeX;
#   - lab-settings/overrides.json as share/jupyter/lab/settings/overrides.json: JupyterLab's
#     defaults (no news question, no update check).
WEBPDF_TEMPLATE="$HERE/jupyter/templates/cifarlab_webpdf"
jupyter_files() { # "source<TAB>destination" lines, one per file or folder
  local site
  site=$("$JUPYTER_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))' 2>/dev/null) \
    || site="$JUPYTER_VENV/lib/site-packages-not-found"
  printf '%s\t%s\n' \
    "$WEBPDF_CONFIG" "$JUPYTER_VENV/etc/jupyter/jupyter_server_config.py" \
    "$WEBPDF_CONFIG" "$JUPYTER_VENV/etc/jupyter/jupyter_nbconvert_config.py" \
    "$WEBPDF_TEMPLATE" "$JUPYTER_VENV/share/jupyter/nbconvert/templates/cifarlab_webpdf" \
    "$HERE/jupyter/cifarlab_jupyter.py" "$site/cifarlab_jupyter.py" \
    "$HERE/jupyter/lab-settings/overrides.json" "$JUPYTER_VENV/share/jupyter/lab/settings/overrides.json"
}

jupyter_files_stale() { # prints the destinations (relative to the venv) that differ from the repository's
  local src dst
  while IFS=$'\t' read -r src dst; do
    if [ -d "$src" ]; then diff -rq "$src" "$dst" >/dev/null 2>&1 || echo "${dst#"$JUPYTER_VENV"/}"
    else cmp -s "$src" "$dst" || echo "${dst#"$JUPYTER_VENV"/}"; fi
  done < <(jupyter_files)
}

webpdf_config_ok() { [ -z "$(jupyter_files_stale)" ]; }

install_webpdf_config() {
  local src dst
  while IFS=$'\t' read -r src dst; do
    mkdir -p "$(dirname "$dst")" || return 1
    rm -rf "$dst.tmp"
    if [ -d "$src" ]; then
      cp -r "$src" "$dst.tmp" && rm -rf "$dst" && mv "$dst.tmp" "$dst" || return 1
    else
      cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst" || return 1
    fi
  done < <(jupyter_files)
}

# A Python 3.9+ that can make virtual environments with pip: python3 on PATH (pyenv, Homebrew...),
# else Debian's, after installing python3-venv.
venv_python() {
  local p
  for p in "${CIFARLAB_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$p" ] && command -v "$p" >/dev/null || continue
    "$p" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' 2>/dev/null && { "$p" -c 'import sys; print(sys.executable)'; return 0; }
  done
  if have_apt && can_root && [ -x /usr/bin/python3 ]; then
    apt_install python3-venv >&2
    /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null && { echo /usr/bin/python3; return 0; }
  fi
  return 1
}

pypi_reachable() { # python
  timeout 40 "$1" -m pip download --no-deps --no-cache-dir --retries 0 --timeout 10 -d "$(mktemp -d)" \
    'webencodings==0.6.1' >/dev/null 2>&1
}

install_venv() {
  local py
  py=$(venv_python) || { info "no Python 3.9+ with venv and ensurepip found (apt-get install python3-venv)"; return 1; }
  if ! pypi_reachable "$py"; then
    info "PyPI cannot be reached from here"
    return 1
  fi
  doing "JupyterLab 4 and nbconvert 7 (kernel-setup/requirements.txt, hashes checked) into $JUPYTER_VENV with $py (about a minute)"
  rm -rf "$JUPYTER_VENV"
  mkdir -p "$(dirname "$JUPYTER_VENV")"
  "$py" -m venv "$JUPYTER_VENV" || { info "python -m venv failed"; rm -rf "$JUPYTER_VENV"; return 1; }
  if ! "$JUPYTER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --require-hashes --only-binary=:all: -r "$JUPYTER_REQ"; then
    info "pip install -r kernel-setup/requirements.txt failed (see above)"
    rm -rf "$JUPYTER_VENV"
    return 1
  fi
  install_webpdf_config || { info "copying kernel-setup/jupyter into $JUPYTER_VENV failed (see above)"; return 1; }
  venv_stamp > "$JUPYTER_VENV/cifarlab-stamp"
}

step_jupyter() {
  local how=${CIFARLAB_JUPYTER:-auto} v stale
  JUPYTER_BIN=""
  if [ "$how" != apt ]; then
    if venv_ok; then
      stale=$(jupyter_files_stale | tr '\n' ' ')
      if [ -n "$stale" ]; then
        if [ "$MODE" = check ]; then missing "JupyterLab's cifarlab settings in $JUPYTER_VENV are missing or out of date (${stale% }): run kernel-setup/setup.sh"
        else doing "JupyterLab's cifarlab settings (${stale% }) into $JUPYTER_VENV"; install_webpdf_config || missing "copying kernel-setup/jupyter into $JUPYTER_VENV failed (see above)"; fi
      fi
      JUPYTER_BIN="$JUPYTER_VENV/bin/jupyter"
    elif [ "$MODE" = check ]; then
      if [ "$how" = auto ] && find_other_jupyter >/dev/null; then
        info "JupyterLab is not installed in $JUPYTER_VENV (or not from the current requirements.txt); the fallback is in place (kernel-setup/setup.sh installs JupyterLab where PyPI can be reached)"
      else
        missing "JupyterLab is not installed in $JUPYTER_VENV (or not from the current requirements.txt): run kernel-setup/setup.sh"
        return 0
      fi
    elif install_venv && venv_ok; then
      JUPYTER_BIN="$JUPYTER_VENV/bin/jupyter"
    elif [ "$how" = pip ]; then
      missing "JupyterLab could not be installed from PyPI into $JUPYTER_VENV (CIFARLAB_JUPYTER=pip; see above)"
      return 0
    else
      info "falling back to Debian's classic Jupyter Notebook (PyPI unreachable or pip failed)"
    fi
  fi
  if [ -n "$JUPYTER_BIN" ]; then
    v=$("$JUPYTER_VENV/bin/python" -c 'import jupyterlab, nbconvert; print(jupyterlab.__version__, nbconvert.__version__)')
    JUPYTER_KIND="JupyterLab ${v% *} with nbconvert ${v#* } (pip, virtual environment)"
    ok "Jupyter: $JUPYTER_KIND: $JUPYTER_BIN"
    return 0
  fi
  # The fallback: Debian's packages (or a jupyter that is already there).
  if JUPYTER_BIN=$(find_other_jupyter); then
    JUPYTER_KIND="classic Jupyter Notebook (Debian packages or existing install; fallback)"
    ok "Jupyter: $JUPYTER_KIND: $JUPYTER_BIN"
    return 0
  fi
  JUPYTER_BIN=""
  if [ "$MODE" = check ]; then
    missing "Jupyter (nbconvert and the notebook server) not found: run kernel-setup/setup.sh"
    return 0
  fi
  have_apt && apt_install "${JUPYTER_PACKAGES[@]}"
  if JUPYTER_BIN=$(find_other_jupyter); then
    JUPYTER_KIND="classic Jupyter Notebook (Debian packages; fallback)"
    ok "Jupyter: $JUPYTER_KIND: $JUPYTER_BIN"
  else
    JUPYTER_BIN=""
    missing "Jupyter (nbconvert and the notebook server) still not found or not working after installing it"
  fi
}

chromium_bin() {
  local c
  for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
    [ -n "$c" ] && command -v "$c" >/dev/null && { command -v "$c"; return 0; }
  done
  echo ""
}

# ---------------------------------------------------------------------------------------------
# Go tools, pinned in tools/go.mod.
GO_BIN=""
step_go() {
  GO_BIN=$(command -v go || true)
  [ -n "$GO_BIN" ] || { missing "go not found on PATH: install Go 1.26 (https://go.dev/dl/)"; return 0; }
  local v
  v=$(go env GOVERSION)
  case "$v" in
    go1.2[6-9]*|go1.[3-9][0-9]*) ok "Go: $v ($(go env GOROOT))" ;;
    *) missing "Go $v is too old: cifarlab and kernel-setup/tools need Go 1.26 or later (https://go.dev/dl/)"; GO_BIN="" ;;
  esac
}

tools_stamp() {
  # What the installed tools were built from: the pinned module files and the Go version.
  { cat "$HERE/tools/go.mod" "$HERE/tools/go.sum"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -d' ' -f1
}

step_tools() {
  [ -n "$GO_BIN" ] || return 0
  local want
  want=$(tools_stamp)
  if [ -x "$BIN/gonb" ] && [ -x "$BIN/gopls" ] && [ -x "$BIN/goimports" ] \
     && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    ok "Go tools gonb, gopls, goimports (kernel-setup/tools/go.mod) in $BIN"
    return 0
  fi
  if [ "$MODE" = check ]; then
    missing "Go tools gonb/gopls/goimports not built from kernel-setup/tools/go.mod in $BIN: run kernel-setup/setup.sh"
    return 0
  fi
  doing "Go tools gonb, gopls, goimports into $BIN (a few minutes the first time)"
  mkdir -p "$BIN"
  # `go install tool` builds every `tool` directive of the tools module; GOWORK=off keeps a
  # go.work above this folder out of it.
  if (cd "$HERE/tools" && GOWORK=off GOBIN="$BIN" go install tool); then
    echo "$want" > "$STAMP"
  else
    missing "building the Go tools failed (see above)"
  fi
}

# ---------------------------------------------------------------------------------------------
# XLA's PJRT CPU plugin: a wheel from PyPI, pinned by version and hash, of which only the .so is
# kept. go-xla's own auto-install (from GitHub) is never used: package backend turns it off and loads
# the plugin by its absolute path.
PJRT_PLUGIN=${CIFARLAB_PJRT_PLUGIN:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so}
PJRT_REQ="$HERE/pjrt-requirements.txt"
pjrt_stamp() { grep -v '^#' "$PJRT_REQ" | sha256sum | cut -d' ' -f1; }

pip_cmd() { # a python3 with pip (any: pip download installs nothing)
  local p
  for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -m pip --version >/dev/null 2>&1 && { echo "$p"; return 0; }
  done
  return 1
}

step_pjrt() {
  local want
  want=$(pjrt_stamp)
  if [ -f "$PJRT_PLUGIN" ] && [ "$(cat "$PJRT_PLUGIN.stamp" 2>/dev/null)" = "$want" ]; then
    ok "XLA PJRT CPU plugin ($(grep -v '^#' "$PJRT_REQ" | cut -d' ' -f1)): $PJRT_PLUGIN"
    return 0
  fi
  if [ "$MODE" = check ]; then
    info "XLA's PJRT CPU plugin is not installed at $PJRT_PLUGIN: training runs on the pure-Go backend (run kernel-setup/setup.sh for XLA)"
    return 0
  fi
  local py tmp
  if ! py=$(pip_cmd); then
    have_apt && apt_install python3-pip
    py=$(pip_cmd) || { missing "pip not found: cannot download XLA's PJRT CPU plugin (apt-get install python3-pip)"; return 0; }
  fi
  doing "XLA PJRT CPU plugin from PyPI ($(grep -v '^#' "$PJRT_REQ" | cut -d' ' -f1), ~63 MB) into $PJRT_PLUGIN"
  mkdir -p "$(dirname "$PJRT_PLUGIN")"
  tmp=$(mktemp -d "$(dirname "$PJRT_PLUGIN")/.download-XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  if ! "$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
        --platform manylinux_2_27_x86_64 --python-version 3 -r "$PJRT_REQ" -d "$tmp" >&2; then
    rm -rf "$tmp"; trap - EXIT
    missing "downloading XLA's PJRT CPU plugin from PyPI failed (see above); training will use the pure-Go backend"
    return 0
  fi
  # Unpack the one .so (exporting GetPjrtApi) next to its final place, then rename it: a plugin
  # file is either complete or absent.
  if "$py" - "$tmp" "$PJRT_PLUGIN" <<'PY'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(tmp, "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z:
    names = [n for n in z.namelist() if n.endswith("pjrt_c_api_cpu_plugin.so")]
    if len(names) != 1:
        sys.exit(f"{wheels[0]}: expected one pjrt_c_api_cpu_plugin.so, found {names}")
    part = dest + ".part"
    with z.open(names[0]) as src, open(part, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    os.chmod(part, 0o755)
    os.replace(part, dest)
PY
  then
    echo "$want" > "$PJRT_PLUGIN.stamp"
    ok "XLA PJRT CPU plugin: $PJRT_PLUGIN"
  else
    missing "unpacking XLA's PJRT CPU plugin failed (see above)"
  fi
  rm -rf "$tmp"; trap - EXIT
}

# ---------------------------------------------------------------------------------------------
# The GoNB kernel.
KERNEL_DIR=""
wrapper_text() {
  local goroot
  goroot=$(go env GOROOT)
  cat <<EOF
#!/bin/sh
# Written by cifarlab kernel-setup/setup.sh (do not edit; rerun it instead).
# Starts the GoNB kernel with its Go tools (gopls, goimports) and Go itself on PATH, whatever PATH
# Jupyter was started with, and GOEXPERIMENT=simd, which gives GoMLX's pure-Go backend its SIMD
# matrix products when XLA's plugin is missing. GOFLAGS=-ldflags=-w: cell programs are linked
# without DWARF debug information, which halves the link that every cell execution does (stack
# traces keep their file names and lines; an -ldflags in the caller's GOFLAGS comes later and wins).
# -go_work: every notebook's temporary module starts in a Go workspace with this clone of cifarlab
# in it, so any notebook (a new one from the launcher too) imports github.com/cifarlab/cifarlab/...
# with no set-up cell; it comes after kernel.json's own (empty) -go_work, so it wins.
PATH='$BIN':'$goroot/bin':"\$PATH"
GOEXPERIMENT=\${GOEXPERIMENT:-simd}
GOFLAGS="-ldflags=-w\${GOFLAGS:+ \$GOFLAGS}"
export PATH GOEXPERIMENT GOFLAGS
exec '$BIN/gonb' "\$@" -go_work='$REPO'
EOF
}

kernel_ok() { # wrapper path
  local w=$1 kj=$KERNEL_DIR/kernel.json
  [ -f "$kj" ] && [ -x "$w" ] && [ "$(cat "$w")" = "$(wrapper_text)" ] || return 1
  "$PY" - "$kj" "$w" <<'EOF'
import json, sys
k = json.load(open(sys.argv[1]))
sys.exit(0 if k.get("argv", [])[:3] == [sys.argv[2], "--kernel", "{connection_file}"] and k.get("language") == "go" else 1)
EOF
}

step_kernel() {
  [ -n "${JUPYTER_BIN:-}" ] && [ -n "$GO_BIN" ] || { missing "gonb kernel not installed (Jupyter or Go is missing first): run kernel-setup/setup.sh"; return 0; }
  local data_dir
  data_dir=$(PYDEVD_DISABLE_FILE_VALIDATION=1 "$JUPYTER_BIN" --data-dir)
  KERNEL_DIR="$data_dir/kernels/gonb"
  local w="$KERNEL_DIR/gonb-kernel.sh"
  if kernel_ok "$w"; then
    ok "GoNB kernel \"gonb\" in $KERNEL_DIR (starts $BIN/gonb through gonb-kernel.sh)"
    return 0
  fi
  if [ "$MODE" = check ]; then
    missing "gonb kernel not installed (or not pointing at $BIN): run kernel-setup/setup.sh"
    return 0
  fi
  [ -x "$BIN/gonb" ] || { missing "gonb kernel not installed: $BIN/gonb was not built"; return 0; }
  doing "GoNB kernel into $KERNEL_DIR"
  # gonb --install writes kernel.json and the logo, and insists that gopls and goimports are on
  # PATH. Then kernel.json's argv[0] becomes the wrapper that sets PATH for the kernel.
  PATH="$BIN:$(go env GOROOT)/bin:$PATH" JUPYTER_DATA_DIR="$data_dir" "$BIN/gonb" --install >/dev/null 2>&1 \
    || PATH="$BIN:$(go env GOROOT)/bin:$PATH" JUPYTER_DATA_DIR="$data_dir" "$BIN/gonb" --install \
    || { missing "gonb --install failed (see above)"; return 0; }
  wrapper_text > "$w.tmp" && chmod 755 "$w.tmp" && mv "$w.tmp" "$w"
  "$PY" - "$KERNEL_DIR/kernel.json" "$w" <<'EOF'
import json, sys
path, wrapper = sys.argv[1], sys.argv[2]
k = json.load(open(path))
k["argv"][0] = wrapper
with open(path + ".tmp", "w") as f:
    json.dump(k, f, indent=1)
    f.write("\n")
import os
os.replace(path + ".tmp", path)
EOF
  if kernel_ok "$w" && "$JUPYTER_BIN" kernelspec list 2>/dev/null | grep -q '^ *gonb '; then
    ok "GoNB kernel \"gonb\" in $KERNEL_DIR"
  else
    missing "gonb kernel installed in $KERNEL_DIR but Jupyter does not list it"
  fi
}

# ---------------------------------------------------------------------------------------------
# PDF export.
step_pdf() {
  local c
  if have_apt; then apt_install "${PDF_PACKAGES[@]}"; fi
  c=$(chromium_bin)
  if [ -n "$c" ]; then ok "Chromium: $c"; else missing "Chromium not found: run kernel-setup/setup.sh"; fi
  if [ -f /usr/share/javascript/mathjax/MathJax.js ]; then ok "MathJax: /usr/share/javascript/mathjax (offline)"
  else info "MathJax not installed locally (libjs-mathjax): formulas in PDFs stay as TeX source"; fi
  for b in pdftotext pdftoppm; do
    command -v "$b" >/dev/null || missing "$b not found (poppler-utils): run kernel-setup/setup.sh"
  done
  if [ -n "${JUPYTER_BIN:-}" ] && [ "$JUPYTER_BIN" = "$JUPYTER_VENV/bin/jupyter" ] && [ -n "$c" ] && webpdf_config_ok; then
    ok "PDF export (JupyterLab's File > Save and Export Notebook As > PDF and WebPDF: both WebPDF) prints with $c, offline"
    ok "JupyterLab: Qt PDF/PNG exports hidden, no news question or update check (kernel-setup/jupyter)"
  fi
  if command -v xelatex >/dev/null && command -v pandoc >/dev/null; then
    ok "XeLaTeX and pandoc: nbconvert --to pdf available too"
  else
    info "no XeLaTeX/pandoc: the LaTeX export (nbconvert --to pdf) is skipped; the Chromium PDF export does not need it (setup.sh --with-tex installs it)"
  fi
}

# ---------------------------------------------------------------------------------------------
t0=$(date +%s)
echo "kernel-setup: $([ "$MODE" = check ] && echo checking || echo setting up) the GoNB notebook tools"
if [ "$MODE" = setup ] && have_apt && [ "$WITH_TEX" = 1 ]; then apt_install "${TEX_PACKAGES[@]}"; fi
step_jupyter
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
step_go
step_tools
step_kernel
step_pjrt
step_pdf

if [ ${#MISSING[@]} -gt 0 ]; then
  echo "kernel-setup: NOT ready; missing:" >&2
  printf '  - %s\n' "${MISSING[@]}" >&2
  exit 1
fi
echo "kernel-setup: everything is in place ($(( $(date +%s) - t0 ))s); Jupyter: $JUPYTER_KIND"
