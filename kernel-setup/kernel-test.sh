#!/usr/bin/env bash
# Tests the GoNB kernel's go (KERNEL_DIR/bin/go, written by setup.sh), without Jupyter, and what the
# kernel promises offline: with no module proxy, a notebook builds against cifarlab and every module
# cifarlab depends on, from the module cache that the set-up filled, checked against cifarlab's
# go.sum; any other module needs the module proxy.
# It does not depend on what this machine did before: Go runs with an empty module cache, GOPATH
# and HOME of the test's own (and no go env file: GOENV=off), filled the way the set-up fills it
# (setup.sh --go-modules, through the module proxy); then, with GOPROXY=off and GOSUMDB at its
# default (sum.golang.org, whose server an offline machine cannot reach, and none of whose data is
# in the new cache):
#   1. in a notebook's module inside a Go workspace with this clone (what gonb -go_work makes),
#      GoNB's `go get` resolves a package that cifarlab's dependencies provide (gonbui) at the
#      version cifarlab pins, without asking the module proxy for a version list or the checksum
#      database for a checksum, the notebooks' first cell (`go get github.com/cifarlab/cifarlab/...`)
#      resolves every package of cifarlab, and the notebook builds;
#   2. an import of a module that cifarlab does not depend on fails (the promised behaviour: it
#      needs the module proxy);
#   3. without a workspace (the clone the kernel was set up from is gone), an import of cifarlab
#      gets a line that says what is missing before the module proxy's refusal (issue 22, item 7).
# Go's build cache (GOCACHE, content-addressed: nothing in it stands in for a module's files or a
# checksum) stays shared, so the build takes seconds.
#   kernel-setup/kernel-test.sh      (test.sh runs it, after setup.sh; needs the module proxy once)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jupyter=${JUPYTER:-${CIFARLAB_JUPYTER_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/jupyter}/bin/jupyter}
fail() { echo "kernel-test: FAIL: $*" >&2; exit 1; }
[ -x "$jupyter" ] || fail "no jupyter at $jupyter (run kernel-setup/setup.sh)"
kernel_go=$(PYDEVD_DISABLE_FILE_VALIDATION=1 "$jupyter" --data-dir)/kernels/gonb/bin/go
[ -x "$kernel_go" ] || fail "no kernel go at $kernel_go (run kernel-setup/setup.sh)"
t0=$(date +%s)
# What the user's Go would use to reach the proxy and where it keeps its build cache (read before
# HOME and GOENV change).
proxy=$(go env GOPROXY)
gocache=$(go env GOCACHE)
work=$(mktemp -d)
# The module cache's files are read-only.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# A Go as on a fresh machine.
mkdir -p "$work/home"
export HOME=$work/home GOPATH=$work/go GOMODCACHE=$work/go/pkg/mod GOCACHE=$gocache GOENV=off GOTOOLCHAIN=local
unset GOSUMDB GONOSUMDB GOPRIVATE GOINSECURE GOFLAGS GOWORK GOPROXY
[ "$(go env GOSUMDB)" = sum.golang.org ] || fail "GOSUMDB is $(go env GOSUMDB), not the default sum.golang.org"

out=$(GOPROXY=$proxy "$root/kernel-setup/setup.sh" --go-modules 2>&1) \
  || fail "setup.sh --go-modules did not fill an empty module cache:"$'\n'"$out"
grep -q '  ok       Go modules of cifarlab' <<<"$out" || fail "setup.sh --go-modules said:"$'\n'"$out"
[ ! -e "$GOMODCACHE/cache/download/sumdb" ] \
  || fail "filling the module cache asked the checksum database (cifarlab's go.sum lacks lines?): $(ls "$GOMODCACHE/cache/download/sumdb")"
echo "kernel-test: setup.sh --go-modules filled an empty module cache ($(du -sm "$GOMODCACHE" | cut -f1) MB), with nothing from the checksum database"
export GOPROXY=off

# 1. A notebook in a workspace with the clone.
mkdir "$work/ws" && cd "$work/ws"
"$kernel_go" mod init gonb_test >/dev/null 2>&1
"$kernel_go" work init . "$root"
"$kernel_go" mod edit -replace "github.com/cifarlab/cifarlab=$root"   # what GoNB's %goworkfix adds
printf 'package main\n\nimport "github.com/janpfeifer/gonb/gonbui"\n\nfunc main() { _ = gonbui.IsNotebook }\n' > main.go
out=$("$kernel_go" get 2>&1) || fail "go get in a workspace with the clone (proxy off):"$'\n'"$out"
want=$(awk '$1 == "github.com/janpfeifer/gonb" { print $2 }' "$root/go.mod")
grep -q "github.com/janpfeifer/gonb $want" go.mod || fail "go.mod does not take gonb at cifarlab's $want:"$'\n'"$(cat go.mod)"
out=$("$kernel_go" get github.com/cifarlab/cifarlab/...@v0.0.0-00010101000000-000000000000 2>&1) \
  || fail "the notebooks' first cell's go get github.com/cifarlab/cifarlab/... (proxy off):"$'\n'"$out"
out=$("$kernel_go" build -o /dev/null . 2>&1) || fail "the notebook's module does not build (proxy off):"$'\n'"$out"
[ ! -e "$GOMODCACHE/cache/download/sumdb" ] || fail "the checksum database was asked"
echo "kernel-test: offline, a workspace notebook gets gonbui at cifarlab's $want, resolves cifarlab/... and builds, checked against cifarlab's go.sum"

# 2. A module outside cifarlab's dependencies: not promised offline.
grep -q '^rsc.io/quote ' "$root/go.sum" && fail "rsc.io/quote is one of cifarlab's modules: choose another for this check"
printf 'package main\n\nimport "rsc.io/quote"\n\nfunc main() { _ = quote.Go() }\n' > main.go
if out=$("$kernel_go" get 2>&1); then fail "go get of rsc.io/quote passed with the proxy off:"$'\n'"$out"; fi
why=$(grep -Eo 'rsc.io/quote: (cannot find module providing package rsc.io/quote|module lookup disabled by GOPROXY=off).*' <<<"$out" | head -1) \
  || fail "go get of rsc.io/quote (proxy off) failed otherwise than for the missing proxy:"$'\n'"$out"
echo "kernel-test: offline, an import of a module cifarlab does not depend on fails, as promised: it needs the module proxy ($why)"

# 3. No workspace.
mkdir "$work/alone" && cd "$work/alone"
"$kernel_go" mod init gonb_test >/dev/null 2>&1
printf 'package main\n\nimport _ "github.com/cifarlab/cifarlab/lab"\n\nfunc main() {}\n' > main.go
if out=$("$kernel_go" get 2>&1); then fail "go get of cifarlab without a workspace passed"; fi
grep -q "cifarlab: this kernel has no clone of cifarlab" <<<"$out" || fail "no word on what is missing:"$'\n'"$out"
echo "kernel-test: without a clone, the cell says what is missing"
echo "kernel-test: PASS ($(( $(date +%s) - t0 ))s)"
