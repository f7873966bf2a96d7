#!/usr/bin/env bash
# Makes the virtual environment of Keras 3 on JAX (no TensorFlow) for
# keras/callbacks_parity_test.go: callbacks-requirements.txt, pinned with hashes, one lock for
# CPython LOCK_MIN to LOCK_MAX below (callbacks_lock.sh makes it; Python 3.10 gets Keras 3.12.4,
# the last Keras for 3.10, 3.11 and later Keras 3.15.1). The Python is $CIFARLAB_PYTHON, else
# /usr/bin/python3, else python3 on PATH; the venv is bench/keras/.venv-callbacks/<python>-<X.Y.Z>,
# one per Python version, so that switching Pythons never reuses another one's. Idempotent:
# stamped with the lock's hash and the Python; built in a temporary folder and renamed into place.
# A Python outside the lock (not CPython, not LOCK_MIN to LOCK_MAX, free-threaded, or without
# venv/ensurepip) gets one line saying that the parity test will be skipped, and exit 0.
#
# Usage: bench/keras/callbacks_venv.sh            make it when missing or stale (test.sh runs this)
#        bench/keras/callbacks_venv.sh --python   print the venv's python when it is made and
#            current (exit 0); else one line saying why not: exit 2 when the Python is outside the
#            lock, 1 when the venv is missing or stale (the parity test's lookup)
set -euo pipefail
LOCK_MIN=3.10
LOCK_MAX=3.14
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock=$dir/callbacks-requirements.txt
me=bench/keras/callbacks_venv.sh
mode=make
case "${1:-}" in
  "") ;;
  --python) mode=python ;;
  *) echo "usage: $me [--python]" >&2; exit 2 ;;
esac
py=${CIFARLAB_PYTHON:-}
if [ -z "$py" ]; then
  if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=$(command -v python3 || echo python3); fi
fi
# outside WHY: the Python cannot have this venv.
outside() {
  if [ "$mode" = python ]; then echo "$*"; exit 2; fi
  echo "$me: $*: no venv; the Keras callbacks parity test will be skipped (set CIFARLAB_PYTHON to a CPython $LOCK_MIN to $LOCK_MAX)" >&2
  exit 0
}
# "cpython 3.12.1 0 1 <base executable> <sys.version>": implementation, version, free-threaded,
# venv and ensurepip present.
info=$("$py" - 2>/dev/null <<'PY'
import importlib.util, os, sys, sysconfig
ft = 1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0
venv = 1 if importlib.util.find_spec("venv") and importlib.util.find_spec("ensurepip") else 0
base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
print(sys.implementation.name, "%d.%d.%d" % sys.version_info[:3], ft, venv, base, sys.version.replace("\n", " "))
PY
) || outside "$py is not a Python that runs"
read -r impl version ft hasvenv rest <<<"$info"
minor=${version#3.}; minor=${minor%%.*}
if [ "$impl" != cpython ] || [ "${version%%.*}" != 3 ] || [ "$minor" -lt "${LOCK_MIN#3.}" ] || [ "$minor" -gt "${LOCK_MAX#3.}" ]; then
  outside "$py is $impl $version, outside the callbacks' lock (CPython $LOCK_MIN to $LOCK_MAX)"
fi
[ "$ft" = 0 ] || outside "$py is a free-threaded CPython $version, outside the callbacks' lock (CPython $LOCK_MIN to $LOCK_MAX with the GIL)"
[ "$hasvenv" = 1 ] || outside "$py (Python $version) cannot make virtual environments (install python3-venv)"

venv=$dir/.venv-callbacks/$impl-$version
want="$(sha256sum "$lock" | cut -d' ' -f1) $rest"
current() { [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ] && [ -x "$venv/bin/python" ]; }
if [ "$mode" = python ]; then
  if current; then echo "$venv/bin/python"; exit 0; fi
  if [ -d "$venv" ]; then echo "the venv $venv is stale (made from another lock or Python): run $me"
  else echo "no venv for Python $version ($py) at $venv: run $me (test.sh does)"; fi
  exit 1
fi
current && exit 0

echo "bench/keras: installing Keras 3 with JAX for Python $version ($py) into $venv (about 170 MB to download, 700 MB installed)" >&2
# The venv of the former layout (bench/keras/.venv-callbacks itself, CPython 3.11 only) goes.
if [ -f "$dir/.venv-callbacks/pyvenv.cfg" ]; then
  (cd "$dir/.venv-callbacks" && rm -rf bin include lib lib64 share pyvenv.cfg .stamp)
fi
mkdir -p "$dir/.venv-callbacks"
tmp=$(mktemp -d "$venv.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp"
"$tmp/bin/python" -m pip install -q --disable-pip-version-check --no-deps --require-hashes \
  --only-binary :all: -r "$lock"
echo "$want" > "$tmp/.stamp"
rm -rf "$venv"
mv "$tmp" "$venv"
trap - EXIT
# A venv's scripts name its folder: rebuild them for the final path.
"$py" -m venv --upgrade "$venv" >/dev/null
echo "bench/keras: $venv ready" >&2
