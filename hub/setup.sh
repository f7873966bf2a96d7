#!/usr/bin/env bash
# Sets up JupyterHub for a class on this server (run as root; idempotent: a second run only
# refreshes what changed). Everything shared goes under $CIFARLAB_HUB_PREFIX (/opt/cifarlab),
# owned by root and read-only for students:
#   hub/          the venv: JupyterHub 5 + the JupyterLab/nbconvert of kernel-setup (hub/requirements.txt,
#                 pinned with hashes), with cifarlab's Jupyter config, WebPDF template, PDF server
#                 extension and overrides.json; share/jupyter/kernels/gonb: the Go (gonb) kernel
#   node/         configurable-http-proxy from npm (hub/package-lock.json)
#   cifarlab/     a copy of this clone (the Go module the kernels build against with -go_work;
#                 notebooks/ there are the originals copied to each student on first login)
#   gomod/        the Go module cache (GOPROXY=off in the kernels: nothing is downloaded per user)
#   gonb-tools/   gonb, gopls, goimports (kernel-setup/tools)
#   pjrt/         XLA's PJRT CPU plugin with its manifest and check stamp
#   cifar10/      CIFAR-10 (copied once from $CIFAR10_DIR or ../shared/cifar10 of this clone)
#   kernel/       the kernel's wrapper, settings (env.sh), go shim, cellguard (hub/cellguard: says in
#                 the cell when the student's memory or process limit stopped it) and gocacheprog
#   cifarlab/hub/assignments/  nbgrader assignments (their source), copied to each teacher's
#                 ~/cifarlab-course/source
#   gocache/      the Go build cache every student's kernel reads (hub/gocacheprog; go-build/: the
#                 same as a plain GOCACHE, for CIFARLAB_HUB_GOCACHE=copy)
# The hub's state (sqlite, cookie secret) goes to /var/lib/cifarlab-hub (root only); nbgrader's
# exchange to /srv/cifarlab/exchange (CIFARLAB_HUB_EXCHANGE; root's, mode 1777).
# Usage: sudo hub/setup.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PREFIX=${CIFARLAB_HUB_PREFIX:-/opt/cifarlab}
STATE=${CIFARLAB_HUB_STATE:-/var/lib/cifarlab-hub}
say() { echo "hub/setup.sh: $*"; }
die() { echo "hub/setup.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run it as root (it installs into $PREFIX and the hub spawns each student's server as that student)"
GO=$(command -v go || true)
[ -n "$GO" ] || die "Go 1.26 or later is required (https://go.dev/dl/)"
GOROOT_BIN=$(dirname "$("$GO" env GOROOT)/bin/go")
umask 022
t0=$(date +%s)

# Debian packages (chromium for WebPDF, gcc for XLA's cgo, ...), root's own Go tools and the PJRT
# plugin: the single-user set-up, run as root once.
say "kernel-setup/setup.sh (Debian packages, the PJRT plugin)"
"$REPO/kernel-setup/setup.sh" >/tmp/cifarlab-hub-kernel-setup.log 2>&1 \
  || { tail -20 /tmp/cifarlab-hub-kernel-setup.log; die "kernel-setup/setup.sh failed (log: /tmp/cifarlab-hub-kernel-setup.log)"; }
mkdir -p "$PREFIX" "$STATE"
chmod 755 "$PREFIX"; chmod 700 "$STATE"
# The Unix groups the hub lets in (students) and makes admins (teachers): usermod -aG GROUP USER.
for g in "${CIFARLAB_HUB_STUDENTS:-cifarlab-students}" "${CIFARLAB_HUB_TEACHERS:-cifarlab-teachers}"; do
  getent group "$g" >/dev/null || { groupadd "$g"; say "made the group $g"; }
done

# 1. The venv (stamp: the lock's SHA-256 and the Python version).
PY=${CIFARLAB_PYTHON:-/usr/bin/python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "$PY is $("$PY" -V 2>&1): the hub needs Python 3.11 or later (nbgrader 0.9.6; Debian 12 has 3.11); set CIFARLAB_PYTHON"
VENV=$PREFIX/hub
want=$( (sha256sum "$HERE/requirements.txt"; "$PY" -V) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.cifarlab-stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$VENV/bin/jupyterhub" ]; then
  say "JupyterHub venv at $VENV (hub/requirements.txt)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: \
    --no-deps -r "$HERE/requirements.txt"
  echo "$want" >"$VENV/.cifarlab-stamp"
fi
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
J=$REPO/kernel-setup/jupyter
mkdir -p "$VENV/etc/jupyter" "$VENV/share/jupyter/nbconvert/templates" "$VENV/share/jupyter/lab/settings" "$VENV/etc/jupyterhub"
cp "$J/webpdf_config.py" "$VENV/etc/jupyter/jupyter_server_config.py"
cp "$J/webpdf_config.py" "$VENV/etc/jupyter/jupyter_nbconvert_config.py"
rm -rf "$VENV/share/jupyter/nbconvert/templates/cifarlab_webpdf"
cp -r "$J/templates/cifarlab_webpdf" "$VENV/share/jupyter/nbconvert/templates/"
cp "$J/cifarlab_jupyter.py" "$site/cifarlab_jupyter.py"
cp "$J/lab-settings/overrides.json" "$VENV/share/jupyter/lab/settings/overrides.json"
cp "$HERE/jupyterhub_config.py" "$VENV/etc/jupyterhub/jupyterhub_config.py"
# nbgrader for every server: the course id, the exchange, the Go kernel's stub for a solution region
# (it compiles: a function whose body is only the stub panics when called), the autograder's time
# per cell; a teacher's course is ~/cifarlab-course. Students get, first on their
# JUPYTER_CONFIG_PATH (the spawner), jupyter-student/: the formgrader, the course list and the
# assignment-creation panel off.
EXCHANGE=${CIFARLAB_HUB_EXCHANGE:-/srv/cifarlab/exchange}
cat >"$VENV/etc/jupyter/nbgrader_config.py" <<EOF
# Written by hub/setup.sh: nbgrader on the cifarlab class hub (see hub/README.md).
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("CIFARLAB_HUB_COURSE", "cifarlab")
c.CourseDirectory.root = os.path.expanduser("~/cifarlab-course")
c.Exchange.root = os.environ.get("CIFARLAB_HUB_EXCHANGE", "$EXCHANGE")
# A student's fetched assignments and feedback: ~/cifarlab-labs/ASSIGNMENT (their JupyterLab's folder).
c.Exchange.assignment_dir = os.path.expanduser("~/cifarlab-labs")
c.ClearSolutions.code_stub = {
    "go": '// YOUR CODE HERE\\npanic("not implemented yet")',
    "python": "# YOUR CODE HERE\\nraise NotImplementedError()",
}
c.Execute.timeout = int(os.environ.get("CIFARLAB_HUB_GRADE_TIMEOUT", "3600"))
EOF
# JupyterLab shows the formgrader in a frame of its own page: JupyterHub's single-user servers
# forbid every frame (frame-ancestors 'none'); pages of the same origin may frame them here.
cat >"$VENV/etc/jupyter/jupyter_server_config.json" <<EOF
{
  "ServerApp": {
    "tornado_settings": {
      "headers": {
        "Content-Security-Policy": "frame-ancestors 'self'"
      }
    }
  }
}
EOF
mkdir -p "$VENV/etc/jupyter-student/labconfig" "$VENV/etc/jupyter-student/jupyter_server_config.d"
cat >"$VENV/etc/jupyter-student/labconfig/page_config.json" <<EOF
{
  "disabledExtensions": {
    "@jupyter/nbgrader:formgrader": true,
    "@jupyter/nbgrader:course-list": true,
    "@jupyter/nbgrader:create-assignment": true
  }
}
EOF
cat >"$VENV/etc/jupyter-student/jupyter_server_config.d/cifarlab-student.json" <<EOF
{
  "ServerApp": {
    "jpserver_extensions": {
      "nbgrader.server_extensions.formgrader": false,
      "nbgrader.server_extensions.course_list": false
    }
  }
}
EOF
# The exchange: root's; everyone may make a folder in it (the teacher's course), no one may rename
# or delete another's (sticky); nbgrader sets the modes inside (inbound: write-only for students).
mkdir -p "$EXCHANGE"
chown root:root "$EXCHANGE"; chmod 1777 "$EXCHANGE"
cp "$HERE/cifarlab_spawner.py" "$site/cifarlab_spawner.py"

# 2. configurable-http-proxy.
NODE_DIR=$PREFIX/node
stamp=$(cat "$HERE/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$NODE_DIR/.cifarlab-stamp" 2>/dev/null)" != "$stamp" ]; then
  say "configurable-http-proxy (npm ci) into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$stamp" >"$NODE_DIR/.cifarlab-stamp"
fi
ln -sf "$NODE_DIR/node_modules/.bin/configurable-http-proxy" "$VENV/bin/configurable-http-proxy"

# 3. This clone (its tracked and untracked-not-ignored files; no out/, no .git).
say "the cifarlab module at $PREFIX/cifarlab"
rm -rf "$PREFIX/cifarlab.new"; mkdir -p "$PREFIX/cifarlab.new"
(cd "$REPO" && git ls-files -z -co --exclude-standard | grep -zv '^hub/node_modules/' \
  | tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$PREFIX/cifarlab.new"
rm -rf "$PREFIX/cifarlab.old"; [ -d "$PREFIX/cifarlab" ] && mv "$PREFIX/cifarlab" "$PREFIX/cifarlab.old"
mv "$PREFIX/cifarlab.new" "$PREFIX/cifarlab"; rm -rf "$PREFIX/cifarlab.old"

# 4. The module cache, filled from root's cache first (then the module proxy).
ROOT_MODCACHE=$("$GO" env GOMODCACHE)
say "Go modules into $PREFIX/gomod"
(cd "$PREFIX/cifarlab" && GOWORK=off GOFLAGS=-mod=mod GOMODCACHE="$PREFIX/gomod" \
  GOPROXY="file://$ROOT_MODCACHE/cache/download,$("$GO" env GOPROXY)" "$GO" mod download)

# 5. The kernel's Go tools.
tools_stamp=$(cat "$REPO/kernel-setup/tools/go.mod" "$REPO/kernel-setup/tools/go.sum" <("$GO" version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$PREFIX/gonb-tools/.cifarlab-stamp" 2>/dev/null)" != "$tools_stamp" ]; then
  say "gonb, gopls, goimports into $PREFIX/gonb-tools/bin"
  (cd "$REPO/kernel-setup/tools" && GOWORK=off GOBIN="$PREFIX/gonb-tools/bin" "$GO" install tool)
  echo "$tools_stamp" >"$PREFIX/gonb-tools/.cifarlab-stamp"
fi

# 6. The PJRT plugin (as kernel-setup installed it for root) and its check stamp.
SRC_PLUGIN=${CIFARLAB_PJRT_PLUGIN:-${XDG_DATA_HOME:-$HOME/.local/share}/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so}
PLUGIN=$PREFIX/pjrt/pjrt_c_api_cpu_plugin.so
if [ -f "$SRC_PLUGIN" ] && ! cmp -s "$SRC_PLUGIN.manifest" "$PLUGIN.manifest"; then
  say "XLA's PJRT plugin into $PREFIX/pjrt"
  mkdir -p "$PREFIX/pjrt"; rm -f "$PLUGIN.verified"
  cp "$SRC_PLUGIN" "$PLUGIN.part" && mv "$PLUGIN.part" "$PLUGIN"
  cp "$SRC_PLUGIN.manifest" "$PLUGIN.manifest"
fi

# 7. CIFAR-10, once for the server.
DATA=${CIFAR10_DIR:-$REPO/../shared/cifar10}
if [ ! -f "$PREFIX/cifar10/cifar-10-batches-py/test_batch" ]; then
  if [ -f "$DATA/cifar-10-batches-py/test_batch" ]; then
    say "CIFAR-10 from $DATA into $PREFIX/cifar10"
    rm -rf "$PREFIX/cifar10.part"; mkdir -p "$PREFIX/cifar10.part"
    cp -r "$DATA/cifar-10-batches-py" "$PREFIX/cifar10.part/"
    rm -rf "$PREFIX/cifar10"; mv "$PREFIX/cifar10.part" "$PREFIX/cifar10"
  else
    say "CIFAR-10: downloading the official archive into $PREFIX/cifar10"
    (cd "$REPO" && "$GO" run ./cmd/cifarlab data -dir "$PREFIX/cifar10")
  fi
fi

# 8. The kernel: wrapper, go shim, kernel spec in the hub's venv (every student's JupyterLab).
K=$PREFIX/kernel
mkdir -p "$K/bin" "$K/libexec"
# cellguard: runs each compiled cell and says in the cell when the student's memory or process
# limit (the spawner's cgroup) stopped it.
# gocacheprog: the students' Go build cache program (GOCACHEPROG), reading the shared cache below.
for p in cellguard gocacheprog; do
  (cd "$REPO" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -trimpath -o "$K/libexec/$p.new" "./hub/$p")
  mv "$K/libexec/$p.new" "$K/libexec/$p"
done
cat >"$K/bin/go" <<EOF
#!/bin/sh
# Written by hub/setup.sh: the hub kernel's go. Before GoNB's automatic go get in a notebook's
# module inside the workspace, require cifarlab (the shared copy answers for it).
if [ "\$1" = get ] && [ -f go.work ] && [ -f go.mod ] && ! grep -q 'github.com/cifarlab/cifarlab v' go.mod; then
  '$GOROOT_BIN/go' mod edit -require=github.com/cifarlab/cifarlab@v0.0.0-00010101000000-000000000000 || exit
fi
# GoNB's build of a cell (go build -o ./gonb_ID in its temporary module): the program becomes
# gonb_ID.cell and gonb_ID a link to cellguard, which runs it and explains a stop by a limit; a
# build stopped by the memory limit is explained too.
if [ "\$1" = build ] && [ "\$2" = -o ] && [ "\$(dirname "\$3")" = "\$PWD" ] && [ -x '$K/libexec/cellguard' ]; then
  case "\$(basename "\$3")" in
  gonb_*)
    bin=\$3
    rm -f "\$bin" "\$bin.cell"
    CIFARLAB_CELLGUARD_BEFORE=\$('$K/libexec/cellguard' -counters)
    export CIFARLAB_CELLGUARD_BEFORE
    '$GOROOT_BIN/go' "\$@"; rc=\$?
    if [ \$rc = 0 ]; then mv "\$bin" "\$bin.cell" && ln -s '$K/libexec/cellguard' "\$bin"; rc=\$?
    else '$K/libexec/cellguard' -check \$rc >&2; fi
    exit \$rc ;;
  esac
fi
exec '$GOROOT_BIN/go' "\$@"
EOF
cat >"$K/env.sh" <<EOF
# Written by hub/setup.sh: the Go settings of the hub's kernel (gonb-kernel.sh), also those of the
# build that fills the shared build cache below, so that its entries are the ones a cell asks for.
PATH='$K/bin':'$PREFIX/gonb-tools/bin':'$GOROOT_BIN':"\$PATH"
GOEXPERIMENT=\${GOEXPERIMENT:-simd}
GOFLAGS="-ldflags=-w"
GOMODCACHE='$PREFIX/gomod'
GOPROXY=off
GOSUMDB=off
GOTOOLCHAIN=local
CIFAR10_DIR='$PREFIX/cifar10'
CIFARLAB_PJRT_PLUGIN='$PLUGIN'
export PATH GOEXPERIMENT GOFLAGS GOMODCACHE GOPROXY GOSUMDB GOTOOLCHAIN CIFAR10_DIR CIFARLAB_PJRT_PLUGIN
EOF
cat >"$K/gonb-kernel.sh" <<EOF
#!/bin/sh
# Written by hub/setup.sh: the Go (gonb) kernel of the class hub. Shared, read-only: the module
# cache (GOPROXY=off: nothing is downloaded), the toolchain (GOTOOLCHAIN=local), the tools, the
# plugin, CIFAR-10, the cifarlab module, the build cache filled at set-up. Private: the student's
# own build cache, the runs and the flat cache (~/.cache/cifarlab), GoNB's temporary modules
# (TMPDIR: the student's /tmp/cifarlab-tmp-UID, mode 700).
# Fairness: the spawner puts each student's server and kernels in a CPU cgroup of their own (equal
# shares); GOMAXPROCS is limited to CIFARLAB_HUB_THREADS when the spawner sets it.
. '$K/env.sh'
# The Go build cache (CIFARLAB_HUB_GOCACHE, from the spawner):
#   shared (default): gocacheprog reads the packages compiled at set-up ($PREFIX/gocache, root's)
#     and writes only the student's ~/.cache/cifarlab/gocache;
#   copy: a plain GOCACHE (~/.cache/go-build), copied from $PREFIX/go-build when the student has none;
#   private: a plain GOCACHE that only the student's own builds fill.
case "\${CIFARLAB_HUB_GOCACHE:-shared}" in
shared)
  GOCACHEPROG="'$K/libexec/gocacheprog' -shared '$PREFIX/gocache' -dir '\$HOME/.cache/cifarlab/gocache'"
  export GOCACHEPROG ;;
copy)
  d=\${XDG_CACHE_HOME:-\$HOME/.cache}/go-build
  if [ ! -e "\$d" ] && [ -d '$PREFIX/go-build' ]; then
    mkdir -p "\$(dirname "\$d")" && cp -r '$PREFIX/go-build' "\$d.part.\$\$" && mv -T "\$d.part.\$\$" "\$d" 2>/dev/null
    rm -rf "\$d.part.\$\$"
  fi ;;
esac
if [ -n "\${CIFARLAB_HUB_THREADS:-}" ]; then
  GOMAXPROCS=\$CIFARLAB_HUB_THREADS
  export GOMAXPROCS
fi
exec '$PREFIX/gonb-tools/bin/gonb' "\$@" -go_work='$PREFIX/cifarlab'
EOF
chmod 755 "$K/gonb-kernel.sh" "$K/bin/go"
KS=$VENV/share/jupyter/kernels/gonb
mkdir -p "$KS"
cat >"$KS/kernel.json" <<EOF
{
 "argv": ["$K/gonb-kernel.sh", "--kernel", "{connection_file}", "-logtostderr=true"],
 "display_name": "Go (gonb)",
 "language": "go",
 "interrupt_mode": "message",
 "env": {}
}
EOF
[ -f "$HOME/.local/share/jupyter/kernels/gonb/logo-svg.svg" ] && cp "$HOME/.local/share/jupyter/kernels/gonb/logo-svg.svg" "$KS/"

# 9. The shared Go build cache: every package of the cifarlab module and all it imports (GoMLX,
# XLA's bindings, ...) compiled once with the kernel's settings (env.sh) in a module made as GoNB
# makes a cell's (a workspace with the shared cifarlab), into $PREFIX/gocache (gocacheprog's
# format, read by every student's kernel), then written out as a plain GOCACHE, $PREFIX/go-build
# (for CIFARLAB_HUB_GOCACHE=copy). Kept between set-ups: only what changed is compiled again.
say "the shared Go build cache ($PREFIX/gocache, $PREFIX/go-build)"
warm=$(mktemp -d /tmp/cifarlab-hub-warm.XXXXXX)
mkdir -p "$warm/gonb_warm"
printf 'package main\n\nimport (\n%s)\n\nfunc main() {}\n' \
  "$(cd "$PREFIX/cifarlab" && GOWORK=off GOFLAGS=-mod=mod GOMODCACHE="$PREFIX/gomod" GOPROXY=off "$GO" list -f '{{if not .Standard}}{{if ne .Name "main"}}	_ "{{.ImportPath}}"
{{end}}{{end}}' ./... | grep -v /internal/)" >"$warm/gonb_warm/main.go"
fill() { # extra environment for the build
  env -i HOME="$warm" PATH=/usr/local/bin:/usr/bin:/bin "$@" sh -c ". '$K/env.sh' && cd '$warm/gonb_warm' \
    && go mod init gonb_warm >/dev/null 2>&1; go work init >/dev/null 2>&1; go work use . '$PREFIX/cifarlab' \
    && '$GOROOT_BIN/go' build -o /dev/null . && '$GOROOT_BIN/go' build github.com/cifarlab/cifarlab/..."
}
t1=$(date +%s)
fill GOCACHEPROG="$K/libexec/gocacheprog -dir $PREFIX/gocache" || die "filling $PREFIX/gocache failed"
"$K/libexec/gocacheprog" -dir "$PREFIX/gocache" -export "$PREFIX/go-build" || die "writing $PREFIX/go-build failed"
rm -rf "$warm"
say "shared build cache: $(du -sh "$PREFIX/gocache" | cut -f1) (gocacheprog), $(du -sh "$PREFIX/go-build" | cut -f1) (plain GOCACHE) in $(( $(date +%s) - t1 ))s"

# Students' login shells (JupyterLab's terminals are login shells, whose /etc/profile resets PATH):
# the hub's jupyter (nbconvert) after the system's commands.
printf '%s\n' '# Written by cifarlab hub/setup.sh: the class hub'"'"'s jupyter on PATH, after the system'"'"'s commands.' \
  "case \":\$PATH:\" in *\":$VENV/bin:\"*) ;; *) PATH=\"\$PATH:$VENV/bin\" ;; esac" >/etc/profile.d/cifarlab-hub.sh

# Read-only for everyone but root.
chown -R root:root "$PREFIX"
chmod -R u+rwX,go+rX,go-w "$PREFIX"
# The plugin's check stamp, after the last change of its inode (chown and chmod change its ctime).
if [ -f "$PLUGIN" ]; then
  sleep 2   # the stamp is written only once the file's change time is safely in the past
  (cd "$REPO" && GOFLAGS=-mod=mod "$GO" run ./hub/pluginstamp "$PLUGIN")
  [ -f "$PLUGIN.verified" ] || say "note: no check stamp beside $PLUGIN (each cell hashes the plugin)"
else
  say "note: no PJRT plugin at $SRC_PLUGIN: kernels train on GoMLX's pure-Go backend"
fi
say "ready in $(( $(date +%s) - t0 ))s: $("$VENV/bin/jupyterhub" --version 2>/dev/null | tail -1) (JupyterHub), $("$VENV/bin/jupyter-lab" --version) (JupyterLab), configurable-http-proxy $(node -p "require('$NODE_DIR/node_modules/configurable-http-proxy/package.json').version")"
