#!/usr/bin/env bash
# Makes bench/keras/.venv-callbacks: Keras 3 on JAX (no TensorFlow), pinned with
# hashes in callbacks-requirements.txt, for keras/callbacks_parity_test.go. Idempotent: stamped
# with the requirements' hash and the Python version; built in a temporary folder and renamed into
# place. It needs CPython 3.11 on x86-64 Linux (the pins are its wheels): $PYTHON, else
# /usr/bin/python3 (Debian 12: 3.11.2), else python3.
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=$dir/.venv-callbacks
py=${PYTHON:-}
if [ -z "$py" ]; then
  if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=$(command -v python3); fi
fi
version=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
case "$version" in
  3.11.*) ;;
  *) echo "bench/keras/callbacks_venv.sh: $py is Python $version; the pinned wheels need CPython 3.11 (set PYTHON)" >&2; exit 1 ;;
esac
want="$(sha256sum "$dir/callbacks-requirements.txt" | cut -d' ' -f1) $version"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "bench/keras: installing Keras 3 with JAX into $venv (about 170 MB)" >&2
tmp=$(mktemp -d "$dir/.venv-callbacks.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp"
"$tmp/bin/python" -m pip install -q --disable-pip-version-check --no-deps --require-hashes \
  -r "$dir/callbacks-requirements.txt"
echo "$want" > "$tmp/.stamp"
rm -rf "$venv"
mv "$tmp" "$venv"
trap - EXIT
"$py" -m venv --upgrade "$venv" >/dev/null
echo "bench/keras: $venv ready" >&2
