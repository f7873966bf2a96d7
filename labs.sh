#!/usr/bin/env bash
# Sets up and runs the cifarlab labs.
#
#   ./labs.sh                  set up (once; idempotent) and open JupyterLab on notebooks/
#                              (port 8888, else the next free one up to 8898, or $CIFARLAB_PORT;
#                              prints the URL with its token; no browser opened without a display)
#   ./labs.sh pdf [NB.ipynb]   set up, execute notebooks headless, export out/NAME.pdf
#   ./labs.sh data [-dir DIR]  load CIFAR-10 and describe it (no Jupyter needed)
#   sudo ./labs.sh hub [setup|start|test]
#                              a class on this server: JupyterHub for every student (see hub/):
#                              setup (hub/setup.sh), start (setup, then the hub in the foreground on
#                              $CIFARLAB_HUB_IP:$CIFARLAB_HUB_PORT, default 127.0.0.1:8000; the
#                              default), test (hub/test.sh)
#
# Data comes from CIFAR10_DIR, else the per-user cache (downloading the official archive there).
set -euo pipefail
cd "$(dirname "$0")"
# GoMLX's pure-Go backend (used when XLA's plugin is not installed) with its SIMD matrix products.
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
if ! command -v go >/dev/null; then
  echo "labs.sh: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi
case "${1:-}" in
  data) shift; exec go run ./cmd/cifarlab data "$@" ;;
  hub)
    shift
    [ "$(id -u)" = 0 ] || { echo "labs.sh hub: run it as root (sudo ./labs.sh hub): the hub starts each student's server as that student" >&2; exit 1; }
    case "${1:-start}" in
      setup) exec hub/setup.sh ;;
      test) shift; exec hub/test.sh "$@" ;;
      start)
        hub/setup.sh
        venv=${CIFARLAB_HUB_PREFIX:-/opt/cifarlab}/hub
        state=${CIFARLAB_HUB_STATE:-/var/lib/cifarlab-hub}
        echo "labs.sh: JupyterHub at http://${CIFARLAB_HUB_IP:-127.0.0.1}:${CIFARLAB_HUB_PORT:-8000}/ (students: group ${CIFARLAB_HUB_STUDENTS:-cifarlab-students}, teachers: group ${CIFARLAB_HUB_TEACHERS:-cifarlab-teachers}; Ctrl-C to stop)"
        cd "$state" && exec "$venv/bin/jupyterhub" -f "$venv/etc/jupyterhub/jupyterhub_config.py" ;;
      *) echo "usage: sudo ./labs.sh hub [setup|start|test]" >&2; exit 2 ;;
    esac ;;
esac
kernel-setup/setup.sh
# JupyterLab in the virtual environment that the set-up made (Debian's classic Notebook where it
# fell back to that); nbrun uses the same nbconvert.
JUPYTER_VENV=${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}
if [ -z "${JUPYTER:-}" ] && [ -x "$JUPYTER_VENV/bin/jupyter-lab" ] && [ "${CIFARLAB_JUPYTER:-}" != apt ]; then
  export JUPYTER="$JUPYTER_VENV/bin/jupyter"
fi
case "${1:-}" in
  pdf)
    shift
    if [ $# -eq 0 ]; then set -- notebooks/lab3.ipynb notebooks/exercise2.ipynb notebooks/exercise2-continued.ipynb notebooks/compare.ipynb; fi
    exec go run ./nbrun -pdf "$@" ;;
  "")
    args=()
    [ "$(id -u)" = 0 ] && args+=(--allow-root)
    # No display (SSH, container, CI): print the URL instead of trying to open a browser.
    if [ "$(uname)" != Darwin ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then args+=(--no-browser); fi
    if [ -n "${JUPYTER:-}" ] && [ -x "$(dirname "$JUPYTER")/jupyter-lab" ]; then
      # A fixed port, so that bookmarks keep working; the next free one when it is taken.
      port=""
      for p in ${CIFARLAB_PORT:-$(seq 8888 8898)}; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
      done
      [ -n "$port" ] || { echo "labs.sh: ports ${CIFARLAB_PORT:-8888-8898} are all taken (set CIFARLAB_PORT)" >&2; exit 1; }
      token=${CIFARLAB_TOKEN:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
      url="http://127.0.0.1:$port/lab?token=$token"
      echo "labs.sh: JupyterLab on notebooks/ at  $url"
      echo "labs.sh: (Ctrl-C twice to stop it)"
      # The token goes through the environment (readable by this user and root only), never the
      # command line, which every user of the machine sees with ps.
      export JUPYTER_TOKEN=$token
      exec "$JUPYTER" lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 \
        --ServerApp.port="$port" --ServerApp.port_retries=0 "${args[@]}"
    fi
    echo "labs.sh: JupyterLab is not installed (PyPI unreachable?); opening Debian's classic Notebook"
    exec "${JUPYTER:-jupyter}" notebook --notebook-dir=notebooks "${args[@]}" ;;
  *)
    echo "usage: ./labs.sh [pdf [NOTEBOOK.ipynb ...] | data [-dir DIR] | hub [setup|start|test]]" >&2
    exit 2 ;;
esac
