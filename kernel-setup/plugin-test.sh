#!/usr/bin/env bash
# Tests that the set-up verifies XLA's PJRT plugin (issue 22, item 1): a copy of the installed
# plugin, truncated to 99% and to 1 MB, is reported as damaged by `setup.sh --check` (exit 1) and
# installed again by `setup.sh`, which leaves a file whose size and SHA-256 match its manifest.
# Needs the plugin installed (setup.sh) and PyPI (the reinstall downloads the pinned wheel).
#   kernel-setup/plugin-test.sh      (test.sh runs it)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
installed=${CIFARLAB_PJRT_PLUGIN:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so}
fail() { echo "plugin-test: FAIL: $*" >&2; exit 1; }
[ -f "$installed" ] && [ -f "$installed.manifest" ] || fail "no installed plugin with a manifest at $installed (run kernel-setup/setup.sh)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plugin=$work/pjrt/pjrt_c_api_cpu_plugin.so
for cut in 99% 1M; do
  mkdir -p "$work/pjrt"
  cp "$installed" "$installed.stamp" "$installed.manifest" "$work/pjrt/"
  size=$(stat -c %s "$plugin")
  case $cut in
    99%) truncate -s $((size * 99 / 100)) "$plugin" ;;
    *) truncate -s "$cut" "$plugin" ;;
  esac
  if out=$(CIFARLAB_PJRT_PLUGIN=$plugin "$here/setup.sh" --check 2>&1); then
    fail "setup.sh --check passed with the plugin cut to $cut:"$'\n'"$out"
  fi
  grep -q "PJRT CPU plugin $plugin is damaged or changed" <<<"$out" || fail "setup.sh --check did not name the damaged plugin (cut to $cut):"$'\n'"$out"
  out=$(CIFARLAB_PJRT_PLUGIN=$plugin "$here/setup.sh" 2>&1) || fail "setup.sh failed to reinstall the plugin cut to $cut:"$'\n'"$out"
  grep -q "installing it again" <<<"$out" || fail "setup.sh did not say it installs the damaged plugin again:"$'\n'"$out"
  want=$(awk '$1 == "sha256" { print $2 }' "$plugin.manifest")
  [ "$(sha256sum "$plugin" | cut -d' ' -f1)" = "$want" ] && [ "$want" = "$(awk '$1 == "sha256" { print $2 }' "$installed.manifest")" ] ||
    fail "after the reinstall the plugin does not match its manifest, or not the installed one's"
  echo "plugin-test: cut to $cut: reported by --check, installed again by setup.sh, intact"
  rm -rf "$work/pjrt"
done
echo "plugin-test: PASS"
