#!/usr/bin/env bash
# Sets up everything the cifarlab notebooks need, once per user and machine:
#   - JupyterLab 4 and nbconvert 7 from PyPI, pinned with their hashes in requirements.txt (one lock
#     for Python 3.10 to 3.15), in a virtual environment in
#     ${XDG_DATA_HOME:-~/.local/share}/cifarlab/jupyter, with settings that make the WebPDF export
#     print with the system Chromium, offline (JupyterLab's "PDF" item too, through the server
#     extension jupyter/cifarlab_jupyter.py), that hide the exports that cannot work here and
#     JupyterLab's news question; Debian's classic Notebook 6 only as the fallback where PyPI
#     cannot be reached (the set-up says which it chose, and why);
#   - the Go modules that cifarlab depends on (its go.mod), downloaded into Go's module cache and
#     checked against its go.sum: with them a notebook builds offline (see go_shim_text);
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
#        sudo kernel-setup/setup.sh --system  only the Debian packages that every user needs (what
#                                          a student without root asks an administrator for);
#                                          with --check: only check them
#        kernel-setup/setup.sh --go-modules  only download cifarlab's Go modules into Go's module
#                                          cache (kernel-test.sh fills an empty one with it);
#                                          with --check: only check that they are there
# Environment:
#   CIFARLAB_TOOLS_DIR  where the Go tools go (default ${XDG_DATA_HOME:-~/.local/share}/cifarlab/gonb-tools)
#   JUPYTER_DATA_DIR    Jupyter's data folder, as Jupyter itself reads it (kernels/gonb goes there)
#   CIFARLAB_JUPYTER    auto (default: pip, else Debian's as a fallback), pip (no fallback) or apt
#   CIFARLAB_JUPYTER_VENV  the JupyterLab virtual environment (default
#                          ${XDG_DATA_HOME:-~/.local/share}/cifarlab/jupyter)
#   CIFARLAB_PYTHON     the Python that makes it: 3.10 to 3.15 (default: python3 on PATH, else
#                       /usr/bin/python3, else python3.15 ... python3.10 on PATH)
#   CIFARLAB_PJRT_PLUGIN  where the PJRT CPU plugin goes (default
#                         ${XDG_DATA_HOME:-~/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)  # this clone: every notebook's kernel builds cells against it
MODE=setup
WITH_TEX=0
SYSTEM_ONLY=0
MODULES_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --check) MODE=check ;;
    --with-tex) WITH_TEX=1 ;;
    --system) SYSTEM_ONLY=1 ;;
    --go-modules) MODULES_ONLY=1 ;;
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
# What a user without root needs from an administrator (--system): the PDF packages, Debian's
# python3-venv (the JupyterLab venv is made with the system's python3), gcc (cgo: XLA's PJRT
# plugin; without a C compiler Go builds without XLA and training runs on the pure-Go backend) and
# git. Go 1.26 is not a Debian package (Debian 12 has 1.19): https://go.dev/dl/, or a user's own
# copy unpacked in their home.
SYSTEM_PACKAGES=(python3-venv gcc git "${PDF_PACKAGES[@]}")

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
  if ! can_root; then
    local also=""
    for p in "${want[@]}"; do [[ " ${SYSTEM_PACKAGES[*]} " == *" $p "* ]] || { also=x; break; }; done
    missing "Debian packages not installed: ${want[*]}: ask an administrator to run  sudo apt-get install ${want[*]}$([ -z "$also" ] && echo "  (or  sudo kernel-setup/setup.sh --system)")"
    return 0
  fi
  if [ "$MODE" = check ]; then
    missing "Debian packages not installed: ${want[*]}: run kernel-setup/setup.sh"
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

venv_ok() { # and, where CIFARLAB_PYTHON is set, made with a Python of its version
  [ -x "$JUPYTER_VENV/bin/jupyter-lab" ] && [ -x "$JUPYTER_VENV/bin/jupyter-nbconvert" ] \
    && [ "$(cat "$JUPYTER_VENV/cifarlab-stamp" 2>/dev/null)" = "$(venv_stamp)" ] || return 1
  [ -z "${CIFARLAB_PYTHON:-}" ] && return 0
  [ "$("$CIFARLAB_PYTHON" -c 'import sys; print(sys.version)' 2>/dev/null)" = "$("$JUPYTER_VENV/bin/python" -c 'import sys; print(sys.version)')" ]
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

# The Pythons that requirements.txt installs on: MIN_PYTHON and every later one. kernel-setup/lock.sh
# resolves the lock for MIN_PYTHON (JupyterLab 4.6 needs 3.10) with environment markers where a
# package's newest release needs a newer Python; kernel-setup/lock-test.sh installs it with every
# Python on the machine and checks that PyPI has its wheels for each version up to MAX_PYTHON.
# A newer Python than MAX_PYTHON is tried, with a note; an older one is refused.
MIN_PYTHON=3.10
MAX_PYTHON=3.15
PY_SEL="" PY_VER=""   # the Python chosen to make the venv, and its version
JUPYTER_FAILURE=""    # why JupyterLab could not be installed, in one line with what to do

py_status() { # python: prints "VERSION STATUS", STATUS one of ok, new (above MAX_PYTHON), old, novenv
  "$1" - "$MIN_PYTHON" "$MAX_PYTHON" 2>/dev/null <<'PY'
import sys
lo, hi = (tuple(int(x) for x in a.split(".")) for a in sys.argv[1:3])
v = sys.version_info[:2]
s = "old" if v < lo else "new" if v > hi else "ok"
if s != "old":
    try:
        import ensurepip, venv  # Debian and Ubuntu: in python3-venv
    except ImportError:
        s = "novenv"
print("%d.%d.%d" % sys.version_info[:3], s)
PY
}

# Chooses the Python that makes the virtual environment (PY_SEL, PY_VER): CIFARLAB_PYTHON if set
# (that one or none), else the first of python3 on PATH (pyenv, Homebrew...), /usr/bin/python3,
# python3.N on PATH that is in MIN_PYTHON..MAX_PYTHON and has venv and ensurepip; a newer one
# only when there is none in the range. Installs Debian's python3-venv where it is missing and
# root can. Else sets JUPYTER_FAILURE and returns 1.
venv_python() {
  local p path v st cands=() seen=" " why=() newer="" novenv=""
  PY_SEL="" PY_VER=""
  if [ -n "${CIFARLAB_PYTHON:-}" ]; then cands=("$CIFARLAB_PYTHON")
  else cands=(python3 /usr/bin/python3); for v in 15 14 13 12 11 10; do cands+=("python3.$v"); done; fi
  for p in "${cands[@]}"; do
    path=$(command -v "$p" 2>/dev/null) || { [ -n "${CIFARLAB_PYTHON:-}" ] && why+=("$p: not found"); continue; }
    case "$seen" in *" $(readlink -f "$path") "*) continue ;; esac
    seen+="$(readlink -f "$path") "
    v="" st=""
    read -r v st < <(py_status "$path" || true) || true
    case "$st" in
      ok) PY_SEL=$path PY_VER=$v; return 0 ;;
      new) [ -n "$newer" ] || newer="$path $v" ;;
      old) why+=("$p is $v") ;;
      novenv) why+=("$p ($v) has no venv/ensurepip (Debian, Ubuntu: python3-venv)"); [ -n "$novenv" ] || novenv=$path ;;
      *) why+=("$p does not run") ;;
    esac
  done
  if [ -n "$newer" ]; then PY_SEL=${newer% *} PY_VER=${newer#* }; return 0; fi
  # Debian's python3 in the range, without python3-venv: install it where root can.
  if [ "$novenv" = /usr/bin/python3 ] && have_apt && can_root; then
    apt_install python3-venv >&2
    v="" st=""
    read -r v st < <(py_status /usr/bin/python3 || true) || true
    if [ "$st" = ok ] || [ "$st" = new ]; then PY_SEL=/usr/bin/python3 PY_VER=$v; return 0; fi
  fi
  local whys
  whys=$(printf '%s; ' "${why[@]}"); whys=${whys%; }
  if [ -n "$novenv" ]; then
    JUPYTER_FAILURE="Python $(py_status "$novenv" | cut -d' ' -f1) ($novenv) cannot make virtual environments: install python3-venv (sudo apt-get install python3-venv, or ask an administrator), or point CIFARLAB_PYTHON at another Python $MIN_PYTHON+ ($whys)"
  else
    JUPYTER_FAILURE="no Python $MIN_PYTHON or later found (${whys:-no python3 on PATH}): JupyterLab 4.6 needs Python $MIN_PYTHON to $MAX_PYTHON: install one (Debian 12 and Ubuntu 22.04 or later have it: python3 python3-venv; or pyenv, uv) and point CIFARLAB_PYTHON at it if it is not python3 on PATH"
  fi
  return 1
}

# Says in one line why `pip install -r requirements.txt` failed, from pip's output ($1), into
# JUPYTER_FAILURE; returns 2 when PyPI (or the network) could not be reached, else 1.
NET_ERRORS='NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|ProxyError|ConnectTimeout|Read timed out|ReadTimeoutError|SSLError'
net_reason() { # pip's log: the network error it met, in a few words
  local r
  r=$(grep -o "Failed to establish a new connection: [^)']*" "$1" | head -1 | sed 's/.*connection: //') || true
  [ -n "$r" ] || r=$(grep -Eo "$NET_ERRORS" "$1" | head -1) || true
  echo "${r:-no answer}"
}

pip_failure() { # log
  local log=$1 req ver spec line
  if grep -Eq "$NET_ERRORS" "$log"; then
    JUPYTER_FAILURE="PyPI cannot be reached from here (pip: $(net_reason "$log"))"
    return 2
  fi
  if req=$(sed -n 's/^ERROR: No matching distribution found for \([^ ]*\).*/\1/p' "$log" | head -1) && [ -n "$req" ]; then
    ver=${req#*==}
    spec=$(grep -o "[; ] *$ver Requires-Python [^;]*" "$log" | head -1 | sed 's/.*Requires-Python //') || true
    if [ -n "$spec" ]; then
      JUPYTER_FAILURE="kernel-setup/requirements.txt pins $req, which needs Python $spec, not $PY_VER ($PY_SEL): the lock does not fit this Python (regenerate it with kernel-setup/lock.sh and report it), or use a Python $MIN_PYTHON to $MAX_PYTHON that it fits (CIFARLAB_PYTHON=...)"
    else
      JUPYTER_FAILURE="PyPI has no wheel of $req for Python $PY_VER on $(uname -s) $(uname -m): use Python $MIN_PYTHON to $MAX_PYTHON (CIFARLAB_PYTHON=...), on Linux x86-64 or aarch64"
    fi
  elif grep -q 'DO NOT MATCH THE HASHES' "$log"; then
    line=$(grep -A2 'DO NOT MATCH THE HASHES' "$log" | grep -Eo '[A-Za-z0-9_.-]+==[^ ]+' | head -1) || true
    JUPYTER_FAILURE="the download of ${line:-a package} does not match its SHA-256 in kernel-setup/requirements.txt (a broken download or a proxy that changes files): run kernel-setup/setup.sh again; report it if it stays"
  elif grep -q 'No space left on device' "$log"; then
    JUPYTER_FAILURE="no space left on the disk of $JUPYTER_VENV (about 400 MB needed): free some and run kernel-setup/setup.sh again"
  else
    line=$(grep '^ERROR: ' "$log" | tail -1 | cut -c8-200) || true
    JUPYTER_FAILURE="pip failed with Python $PY_VER: ${line:-see its output}: run kernel-setup/setup.sh again; report it if it stays"
  fi
  return 1
}

# Installs JupyterLab into the venv. Returns 0 when it is in place, 2 when PyPI cannot be reached
# (the fallback may be used), 1 when it failed otherwise (JUPYTER_FAILURE says why and what to do).
install_venv() {
  local py log tmp rc=0
  venv_python || return 1
  py=$PY_SEL
  if [ "$(py_status "$py" | cut -d' ' -f2)" = new ]; then
    info "Python $PY_VER ($py) is newer than the newest the set-up was checked with ($MAX_PYTHON); trying it (CIFARLAB_PYTHON chooses another)"
  else
    ok "Python: $PY_VER ($py; the set-up supports $MIN_PYTHON to $MAX_PYTHON)"
  fi
  doing "JupyterLab 4 and nbconvert 7 (kernel-setup/requirements.txt, hashes checked) into $JUPYTER_VENV with Python $PY_VER (about a minute)"
  rm -rf "$JUPYTER_VENV"
  mkdir -p "$(dirname "$JUPYTER_VENV")"
  log="$(dirname "$JUPYTER_VENV")/jupyter-pip.log"
  if ! "$py" -m venv "$JUPYTER_VENV" >"$log" 2>&1; then
    JUPYTER_FAILURE="$py -m venv $JUPYTER_VENV failed ($(grep -v '^ *$' "$log" | tail -1 | cut -c1-160)): install python3-venv (Debian, Ubuntu) or point CIFARLAB_PYTHON at another Python $MIN_PYTHON+"
    rm -rf "$JUPYTER_VENV"
    return 1
  fi
  # Can PyPI be reached at all? (pip's own settings: index, proxy, certificates.)
  tmp=$(mktemp -d)
  if ! timeout 60 "$JUPYTER_VENV/bin/python" -m pip download --disable-pip-version-check --no-deps --no-cache-dir \
        --retries 1 --timeout 15 -d "$tmp" 'webencodings==0.6.1' >>"$log" 2>&1; then
    rm -rf "$tmp" "$JUPYTER_VENV"
    JUPYTER_FAILURE="PyPI cannot be reached from here (pip: $(net_reason "$log"); pip's output: $log)"
    return 2
  fi
  rm -rf "$tmp"
  "$JUPYTER_VENV/bin/python" -m pip install --disable-pip-version-check --no-deps --progress-bar off \
    --require-hashes --only-binary=:all: -r "$JUPYTER_REQ" >>"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    rm -rf "$JUPYTER_VENV"
    pip_failure "$log" || rc=$?
    JUPYTER_FAILURE="$JUPYTER_FAILURE (pip's output: $log)"
    return "$rc"
  fi
  if ! install_webpdf_config; then
    JUPYTER_FAILURE="copying kernel-setup/jupyter into $JUPYTER_VENV failed (see above)"
    return 1
  fi
  venv_stamp > "$JUPYTER_VENV/cifarlab-stamp"
  rm -f "$log"
}

step_jupyter() {
  local how=${CIFARLAB_JUPYTER:-auto} v stale rc
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
      if venv_python; then info "setup.sh would install JupyterLab with Python $PY_VER ($PY_SEL; it supports $MIN_PYTHON to $MAX_PYTHON)"
      else info "$JUPYTER_FAILURE"; fi
      if [ "$how" = auto ] && find_other_jupyter >/dev/null; then
        info "JupyterLab is not installed in $JUPYTER_VENV (or not from the current requirements.txt); the fallback is in place (kernel-setup/setup.sh installs JupyterLab where PyPI can be reached)"
      else
        missing "JupyterLab is not installed in $JUPYTER_VENV (or not from the current requirements.txt): run kernel-setup/setup.sh"
        return 0
      fi
    else
      rc=0
      install_venv || rc=$?
      if [ "$rc" = 0 ] && venv_ok; then
        JUPYTER_BIN="$JUPYTER_VENV/bin/jupyter"
      elif [ "$rc" = 2 ] && [ "$how" = auto ]; then
        info "falling back to Debian's classic Jupyter Notebook: $JUPYTER_FAILURE"
      else
        missing "JupyterLab 4 could not be installed: ${JUPYTER_FAILURE:-the virtual environment is incomplete after pip}"
        return 0
      fi
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
  if have_apt && ! can_root; then JUPYTER_BIN=""; return 0; fi  # the packages' line says what to ask for
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
    go1.2[6-9]*|go1.[3-9][0-9]*) ok "Go: $v ($(go env GOROOT))"
      [ "$(go env CGO_ENABLED)" = 1 ] \
        || info "no C compiler (cgo off): Go builds without XLA and training runs on the pure-Go backend, a few times slower (gcc: sudo kernel-setup/setup.sh --system)" ;;
    *) missing "Go $v is too old: cifarlab and kernel-setup/tools need Go 1.26 or later (https://go.dev/dl/)"; GO_BIN="" ;;
  esac
}

# The Go modules that cifarlab depends on: every module its go.mod requires, downloaded through the
# module proxy into Go's module cache ($(go env GOMODCACHE)) and checked against its go.sum. They are
# what the kernel promises offline (go_shim_text): with no module proxy, a notebook builds against
# cifarlab and every module cifarlab depends on, from the module cache that this step filled,
# checked against cifarlab's go.sum (no lookup in the checksum database); any other module needs
# the module proxy. `go mod download` with GOPROXY=off succeeds exactly when all of them are in the
# cache and match go.sum: that is the check, without the network (a fraction of a second).
# GOWORK=off keeps a go.work above the clone out of it.
modules_cached() { (cd "$REPO" && GOWORK=off GOPROXY=off go mod download) >/dev/null 2>&1; }

step_modules() {
  [ -n "$GO_BIN" ] || return 0
  local cache
  cache=$(go env GOMODCACHE)
  if modules_cached; then
    ok "Go modules of cifarlab (go.mod, checked against go.sum) in $cache: notebooks build offline"
    return 0
  fi
  if [ "$MODE" = check ]; then
    missing "Go modules of cifarlab (go.mod) not all in the module cache $cache: run kernel-setup/setup.sh (it needs the module proxy once)"
    return 0
  fi
  doing "Go modules of cifarlab (go.mod, checked against go.sum) into $cache"
  if (cd "$REPO" && GOWORK=off go mod download) && modules_cached; then
    ok "Go modules of cifarlab in $cache: notebooks build offline"
  else
    missing "downloading cifarlab's Go modules into $cache failed (see above): until it succeeds, notebooks need the module proxy"
  fi
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

pip_cmd() { # a python3 with pip (any: pip download installs nothing); the venv's has pip for sure
  local p
  for p in "$JUPYTER_VENV/bin/python" python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -m pip --version >/dev/null 2>&1 && { echo "$p"; return 0; }
  done
  return 1
}

# pjrt_intact: the installed plugin is the file that was unpacked from the pinned wheel: its size
# and SHA-256 are those in its manifest (PLUGIN.manifest, written at the install; the backend
# checks the same before it loads the plugin). A truncated or changed file is not.
pjrt_intact() {
  local m="$PJRT_PLUGIN.manifest" size sum
  [ -f "$PJRT_PLUGIN" ] && [ -f "$m" ] || return 1
  size=$(awk '$1 == "size" { print $2 }' "$m")
  sum=$(awk '$1 == "sha256" { print $2 }' "$m")
  [ -n "$size" ] && [ -n "$sum" ] && [ "$(stat -c %s "$PJRT_PLUGIN")" = "$size" ] &&
    [ "$(sha256sum "$PJRT_PLUGIN" | cut -d' ' -f1)" = "$sum" ]
}

step_pjrt() {
  local want
  want=$(pjrt_stamp)
  if [ -f "$PJRT_PLUGIN" ] && [ "$(cat "$PJRT_PLUGIN.stamp" 2>/dev/null)" = "$want" ]; then
    if pjrt_intact; then
      ok "XLA PJRT CPU plugin ($(grep -v '^#' "$PJRT_REQ" | cut -d' ' -f1)): $PJRT_PLUGIN"
      return 0
    fi
    if [ "$MODE" = check ]; then
      missing "XLA's PJRT CPU plugin $PJRT_PLUGIN is damaged or changed (its size or SHA-256 is not the installed one's): run kernel-setup/setup.sh to install it again"
      return 0
    fi
    info "XLA's PJRT CPU plugin $PJRT_PLUGIN is damaged or changed (its size or SHA-256 is not the installed one's, or it has no manifest): installing it again"
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
    import hashlib
    part, h, size = dest + ".part", hashlib.sha256(), 0
    try:
        with z.open(names[0]) as src, open(part, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
        os.chmod(part, 0o755)
        # The manifest the backend checks the plugin against before loading it (and pjrt_intact).
        with open(dest + ".manifest.part", "w") as m:
            m.write("# cifarlab: the PJRT plugin as unpacked from the pinned wheel (kernel-setup/setup.sh)\n")
            m.write(f"size {size}\nsha256 {h.hexdigest()}\n")
        # A cell that starts in between finds no manifest (an ELF check) rather than the old one.
        for stale in (dest + ".manifest", dest + ".verified"):
            if os.path.exists(stale):
                os.remove(stale)
        os.replace(part, dest)
        os.replace(dest + ".manifest.part", dest + ".manifest")
    except BaseException:
        for leftover in (part, dest + ".manifest.part"):
            if os.path.exists(leftover):
                os.remove(leftover)  # a full disk leaves no 200 MB behind
        raise
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
# The kernel's own bin/ comes first on PATH, for its go (see go_shim_text).
PATH='$KERNEL_DIR/bin':'$BIN':'$goroot/bin':"\$PATH"
GOEXPERIMENT=\${GOEXPERIMENT:-simd}
GOFLAGS="-ldflags=-w\${GOFLAGS:+ \$GOFLAGS}"
export PATH GOEXPERIMENT GOFLAGS
if [ -f '$REPO/go.mod' ]; then
  exec '$BIN/gonb' "\$@" -go_work='$REPO'
fi
echo "cifarlab: the clone $REPO that this kernel was set up from is gone: notebooks cannot import cifarlab (run kernel-setup/setup.sh in a clone)" >&2
exec '$BIN/gonb' "\$@"
EOF
}

# go_shim_text is the kernel's `go` (KERNEL_DIR/bin/go). GoNB runs `go get` in a notebook's
# temporary module before each cell, and `go get` ignores what the workspace's modules require:
# for a package that cifarlab's dependencies provide (gonbui, GoMLX, gonum) it would ask the module
# proxy for the newest version (an upgrade of what cifarlab pins, or an error offline and where the
# proxy refuses the version list). So before a `go get` in a module that sits in a workspace, the
# shim makes that module require github.com/cifarlab/cifarlab (the workspace's clone answers for
# it), and `go get` then takes every dependency at cifarlab's versions.
# `go get` also checks each module it adds against the notebook module's own go.sum only (not the
# go.sum of the workspace's other modules); a module missing there is looked up in the checksum
# database (GOSUMDB, sum.golang.org), whose server an offline machine cannot reach. So the shim
# also adds the clone's go.sum lines that the notebook's go.sum lacks (into a new file, renamed over
# it), and the modules cifarlab depends on are checked against cifarlab's own pinned checksums.
# What the kernel promises offline (no module proxy): a notebook builds against cifarlab and every
# module cifarlab depends on, from the module cache that the set-up filled (step_modules), checked
# against cifarlab's go.sum; any other module needs the module proxy. kernel-test.sh checks both,
# in an empty module cache of its own. Anything else goes to Go unchanged.
go_shim_text() {
  local goroot
  goroot=$(go env GOROOT)
  cat <<EOF
#!/bin/sh
# Written by cifarlab kernel-setup/setup.sh (do not edit; rerun it instead): the GoNB kernel's go.
# Before GoNB's automatic go get in a notebook's module inside a Go workspace: require cifarlab
# (the workspace's clone answers for it), so that its dependencies come at the versions it pins;
# and add the clone's go.sum lines that the module's go.sum lacks, so that they are checked against
# cifarlab's pinned checksums, with no lookup in the checksum database. Offline (no module proxy),
# a notebook builds against cifarlab and every module cifarlab depends on, from the module cache
# that the set-up filled, checked against cifarlab's go.sum; any other module needs the module proxy.
if [ "\$1" = get ] && [ -f go.work ] && [ -f go.mod ]; then
  if ! grep -q 'github.com/cifarlab/cifarlab v' go.mod; then
    '$goroot/bin/go' mod edit -require=github.com/cifarlab/cifarlab@v0.0.0-00010101000000-000000000000 || exit
  fi
  if [ -f '$REPO/go.sum' ]; then
    have=go.sum; [ -f go.sum ] || have=/dev/null
    if grep -qvxF -f "\$have" '$REPO/go.sum'; then
      { cat "\$have"; grep -vxF -f "\$have" '$REPO/go.sum'; } >"go.sum.cifarlab-\$\$" && mv -f "go.sum.cifarlab-\$\$" go.sum
      rm -f "go.sum.cifarlab-\$\$"
    fi
  fi
fi
# Without a workspace (the clone is gone), an import of cifarlab would only get the module proxy's
# 403 or 404: say what is missing first.
if [ "\$1" = get ] && [ ! -f go.work ] && grep -qs '"github.com/cifarlab/cifarlab' ./*.go; then
  echo "cifarlab: this kernel has no clone of cifarlab to build notebooks against ('$REPO' is gone; cifarlab is not on the module proxy): run kernel-setup/setup.sh in a clone of cifarlab, then restart the kernel" >&2
fi
exec '$goroot/bin/go' "\$@"
EOF
}

kernel_ok() { # wrapper path
  local w=$1 kj=$KERNEL_DIR/kernel.json
  [ -f "$kj" ] && [ -x "$w" ] && [ "$(cat "$w")" = "$(wrapper_text)" ] || return 1
  [ -x "$KERNEL_DIR/bin/go" ] && [ "$(cat "$KERNEL_DIR/bin/go")" = "$(go_shim_text)" ] || return 1
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
  mkdir -p "$KERNEL_DIR/bin"
  go_shim_text > "$KERNEL_DIR/bin/go.tmp" && chmod 755 "$KERNEL_DIR/bin/go.tmp" && mv "$KERNEL_DIR/bin/go.tmp" "$KERNEL_DIR/bin/go"
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
if [ "$SYSTEM_ONLY" = 1 ]; then
  echo "kernel-setup: $([ "$MODE" = check ] && echo checking || echo installing) the Debian packages that every user needs"
  have_apt || die "--system: no apt-get here; install by hand the equivalents of: ${SYSTEM_PACKAGES[*]}"
  apt_install "${SYSTEM_PACKAGES[@]}"
  if [ ${#MISSING[@]} -gt 0 ]; then exit 1; fi
  ok "Debian packages: ${SYSTEM_PACKAGES[*]}"
  exit 0
fi
if [ "$MODULES_ONLY" = 1 ]; then
  echo "kernel-setup: $([ "$MODE" = check ] && echo checking || echo downloading) cifarlab's Go modules"
  step_go
  step_modules
  if [ ${#MISSING[@]} -gt 0 ]; then exit 1; fi
  exit 0
fi
echo "kernel-setup: $([ "$MODE" = check ] && echo checking || echo setting up) the GoNB notebook tools"
if [ "$MODE" = setup ] && have_apt && [ "$WITH_TEX" = 1 ]; then apt_install "${TEX_PACKAGES[@]}"; fi
step_jupyter
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
step_go
step_modules
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
