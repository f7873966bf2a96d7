#!/usr/bin/env bash
# Makes kernel-setup/requirements.txt again from requirements.in: one lock for every Python that
# setup.sh accepts (3.10 and later), with environment markers where a package's newest release has
# left the older Pythons behind (uv pip compile --universal), wheels only, every file's SHA-256.
# The pins already in requirements.txt are kept where they still fit (uv prefers them); to move
# to newer releases, add --upgrade (all) or --upgrade-package NAME.
#
# Usage: kernel-setup/lock.sh [uv pip compile options...]
# uv comes from PyPI into a throwaway virtual environment. Check the result with
# kernel-setup/lock-test.sh (it installs the lock with every Python on this machine).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MIN_PYTHON=$(sed -n 's/^MIN_PYTHON=\([0-9.]*\).*/\1/p' "$HERE/setup.sh")
UV_VERSION=0.13.9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/uv"
"$tmp/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
cd "$HERE/.."
"$tmp/uv/bin/uv" pip compile --quiet --universal --python-version "$MIN_PYTHON" \
  --only-binary :all: --generate-hashes \
  --custom-compile-command "kernel-setup/lock.sh" \
  -o kernel-setup/requirements.txt kernel-setup/requirements.in "$@"
grep -E '^(jupyterlab|nbconvert)==' kernel-setup/requirements.txt | sed 's/ *\\$//'
