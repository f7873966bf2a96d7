#!/usr/bin/env bash
# Makes hub/requirements.txt from hub/requirements.in: every package pinned by version and SHA-256,
# wheels only, one universal lock for Python 3.11 and later (nbgrader 0.9.6 needs 3.11), with kernel-setup/requirements.txt as
# constraints (the students' JupyterLab is the one of the single-user set-up).
# uv comes from PyPI into a throwaway virtual environment, as in kernel-setup/lock.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UV_VERSION=0.13.9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/uv"
"$tmp/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
cd "$HERE/.."
# The constraints without their hashes (uv reads pins from them).
grep -E '^[A-Za-z0-9_.-]+==' kernel-setup/requirements.txt | sed 's/ *\\$//' >"$tmp/constraints.txt"
"$tmp/uv/bin/uv" pip compile --quiet --universal --python-version 3.11 \
  --only-binary :all: --generate-hashes -c "$tmp/constraints.txt" \
  --custom-compile-command "hub/lock.sh" \
  -o hub/requirements.txt hub/requirements.in "$@"
grep -E '^(jupyterhub|jupyterlab|nbconvert)==' hub/requirements.txt | sed 's/ *\\$//'
