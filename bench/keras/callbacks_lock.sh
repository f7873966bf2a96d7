#!/usr/bin/env bash
# Makes bench/keras/callbacks-requirements.txt again from callbacks-requirements.in, as
# kernel-setup/lock.sh does for Jupyter: one lock for every CPython from LOCK_MIN to LOCK_MAX of
# callbacks_venv.sh, with environment markers where a package's newest release has left the older
# Pythons behind (uv pip compile --universal), wheels only, every file's SHA-256. Then checks that
# PyPI has a wheel of every pin for each of those Python versions on Linux x86-64 and aarch64
# (uv pip install --dry-run: it resolves, it downloads nothing, so it checks no hash; installing
# with each Python, below, does). The pins already in callbacks-requirements.txt are kept where they
# still fit (uv prefers them); to move to newer releases, add --upgrade or --upgrade-package NAME.
#
# Usage: bench/keras/callbacks_lock.sh [uv pip compile options...]
# uv comes from PyPI into a throwaway virtual environment. Then run, for each Python you have:
#   CIFARLAB_PYTHON=/path/to/python3.X bench/keras/callbacks_venv.sh &&
#   CIFARLAB_PYTHON=/path/to/python3.X go test -count=1 -run TestCallbacksParityWithKeras ./keras
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK_MIN=$(sed -n 's/^LOCK_MIN=\([0-9.]*\).*/\1/p' "$HERE/callbacks_venv.sh")
LOCK_MAX=$(sed -n 's/^LOCK_MAX=\([0-9.]*\).*/\1/p' "$HERE/callbacks_venv.sh")
UV_VERSION=0.13.9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/uv"
"$tmp/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
uv=$tmp/uv/bin/uv
cd "$HERE/../.."
# The former pins, without their hashes: uv keeps a preferred pin's hashes from the output file,
# which would leave out the wheels of Pythons that the former lock did not cover.
grep -v -- '--hash=' bench/keras/callbacks-requirements.txt 2>/dev/null | sed 's/ *\\$//' >"$tmp/lock.txt" || true
"$uv" pip compile --quiet --universal --python-version "$LOCK_MIN" \
  --only-binary :all: --generate-hashes \
  --custom-compile-command "bench/keras/callbacks_lock.sh" \
  -o "$tmp/lock.txt" bench/keras/callbacks-requirements.in "$@"
cp "$tmp/lock.txt" bench/keras/callbacks-requirements.txt
grep -E '^(keras|jax)==' bench/keras/callbacks-requirements.txt | sed 's/ *\\$//'
minor=${LOCK_MIN#3.}
fail=0
while [ "$minor" -le "${LOCK_MAX#3.}" ]; do
  for platform in x86_64-manylinux_2_28 aarch64-manylinux_2_28; do
    if ! "$uv" pip install --dry-run --quiet --no-deps --require-hashes --only-binary :all: \
      --python-version "3.$minor" --python-platform "$platform" --target "$tmp/t" \
      -r bench/keras/callbacks-requirements.txt >"$tmp/log" 2>&1; then
      echo "callbacks_lock.sh: no wheels for Python 3.$minor on $platform:" >&2
      sed 's/^/  /' "$tmp/log" >&2
      fail=1
    fi
  done
  minor=$((minor + 1))
done
[ "$fail" = 0 ] && echo "callbacks_lock.sh: wheels for every pin on Python $LOCK_MIN to $LOCK_MAX (Linux x86-64 and aarch64)"
exit "$fail"
