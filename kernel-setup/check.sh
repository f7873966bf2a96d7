#!/usr/bin/env bash
# Says what the notebooks still need, in plain words, and exits 1 if anything is missing.
# Changes nothing: kernel-setup/setup.sh installs what is missing.
exec "$(dirname "${BASH_SOURCE[0]}")/setup.sh" --check "$@"
