#!/usr/bin/env bash
# Tests the GoNB kernel's go (KERNEL_DIR/bin/go, written by setup.sh), without Jupyter:
#   1. in a notebook's module inside a Go workspace with this clone (what gonb -go_work makes),
#      GoNB's `go get` resolves a package that cifarlab's dependencies provide (gonbui) at the
#      version cifarlab pins, without asking the module proxy for a version list;
#   2. without a workspace (the clone the kernel was set up from is gone), an import of cifarlab
#      gets a line that says what is missing before the module proxy's refusal (issue 22, item 7).
#   kernel-setup/kernel-test.sh      (test.sh runs it, after setup.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jupyter=${JUPYTER:-${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}/bin/jupyter}
kernel_go=$(PYDEVD_DISABLE_FILE_VALIDATION=1 "$jupyter" --data-dir)/kernels/gonb/bin/go
fail() { echo "kernel-test: FAIL: $*" >&2; exit 1; }
[ -x "$kernel_go" ] || fail "no kernel go at $kernel_go (run kernel-setup/setup.sh)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/ws" && cd "$work/ws"
"$kernel_go" mod init gonb_test >/dev/null 2>&1
"$kernel_go" work init . "$root"
"$kernel_go" mod edit -replace "github.com/cifarlab/cifarlab=$root"   # what GoNB's %goworkfix adds
printf 'package main\n\nimport "github.com/janpfeifer/gonb/gonbui"\n\nfunc main() { _ = gonbui.IsNotebook }\n' > main.go
out=$(GOPROXY=off "$kernel_go" get 2>&1) || fail "go get in a workspace with the clone (proxy off):"$'\n'"$out"
want=$(awk '$1 == "github.com/janpfeifer/gonb" { print $2 }' "$root/go.mod")
grep -q "github.com/janpfeifer/gonb $want" go.mod || fail "go.mod does not take gonb at cifarlab's $want:"$'\n'"$(cat go.mod)"
"$kernel_go" build -o /dev/null . || fail "the notebook's module does not build"
echo "kernel-test: a workspace notebook gets gonbui at cifarlab's $want, offline"

mkdir "$work/alone" && cd "$work/alone"
"$kernel_go" mod init gonb_test >/dev/null 2>&1
printf 'package main\n\nimport _ "github.com/cifarlab/cifarlab/lab"\n\nfunc main() {}\n' > main.go
if out=$(GOPROXY=off "$kernel_go" get 2>&1); then fail "go get of cifarlab without a workspace passed"; fi
grep -q "cifarlab: this kernel has no clone of cifarlab" <<<"$out" || fail "no word on what is missing:"$'\n'"$out"
echo "kernel-test: without a clone, the cell says what is missing"
echo "kernel-test: PASS"
