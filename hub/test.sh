#!/usr/bin/env bash
# The class hub, end to end (as root; issue 19): hub/setup.sh, then three students and a teacher
# as system users of the test (groups of their own; removed with their homes on every way out),
# JupyterHub on a free port of 127.0.0.1 with the test's own state folder, and hub/test.mjs
# (Playwright, Debian's Chromium):
#   phase 1: one student alone: login, exercise2.ipynb Run All (quick mode), PDF export; the
#            cells build against the shared Go build cache (A's own cache stays small);
#   phase 2: the three students at the same time (the first one's runs removed before), plus:
#            student A gets 403/404 for B's server and cannot read B's files from a terminal or a
#            cell, cannot write the shared tree; the teacher opens the admin page; before it, C
#            plants a folder and B a symlink under the names of the other's private temporary
#            folder (/tmp/cifarlab-tmp-UID), which the spawner must move aside, not follow;
#   phase 3: nbgrader (hub/grading.mjs): the teacher generates and releases the exercise2 assignment
#            from the formgrader, A (the network the exercise asks for) and B (a wrong one) fetch,
#            write the model cell, Run All and submit at the same time, the teacher collects,
#            autogrades (A all points, B fewer), generates and releases feedback, each student
#            fetches theirs and cannot open the other's; the course is the test's own
#            (CIFARLAB_HUB_COURSE=cifarlab-testPID in the exchange, removed at the end);
# then checks each student's runs and PDF are in their own home, their TMPDIR (each kernel prints
# it: a 0700 folder of theirs that no classmate can list), records wall time and the peak
# memory (each student's memory cgroup, the hub's cgroup parent for all of them), stops the hub
# (SIGTERM) and checks that the hub, the proxy and every student's process ended. The limits
# are the defaults (3 GiB of memory, 1024 processes and threads per student): in phase 2 the
# first student's runaway cell and fork loop are stopped by them, with a line in the cell, while
# the others train; the idle culler (timeout 90 s here) stops every server left idle.
# Prints "N passed, N failed". Writes out/hub/ (screenshots, PDFs, logs, timings.json).
# Before it creates anything it says in one line what it will create as root (hub/setup.sh's
# install, the users, groups and cgroups of the test); CIFARLAB_SKIP_HUB=1 skips it, saying so.
# Usage: hub/test.sh [--skip-setup]
set -euo pipefail
if [ "${CIFARLAB_SKIP_HUB:-}" = 1 ]; then
  echo "hub test: skipped (CIFARLAB_SKIP_HUB=1)"
  echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PREFIX=${CIFARLAB_HUB_PREFIX:-/opt/cifarlab}
OUT=${CIFARLAB_HUB_OUT:-$REPO/out/hub}
say() { echo "hub test: $*"; }
pass=0 fail=0
ok()  { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }

if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null; then
  say "skipped: it must run as root with useradd (it creates system users for the students)"
  echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cgroups=/sys/fs/cgroup/cifarlab-hub/USER
else cgroups="/sys/fs/cgroup/{cpu,memory,pids}/cifarlab-hub/USER"; fi
if [ "${1:-}" = --skip-setup ]; then install=""
else install="hub/setup.sh's install (Debian packages, $PREFIX, ${CIFARLAB_HUB_STATE:-/var/lib/cifarlab-hub}, /etc/profile.d/cifarlab-hub.sh, nbgrader's exchange ${CIFARLAB_HUB_EXCHANGE:-/srv/cifarlab/exchange}, the groups ${CIFARLAB_HUB_STUDENTS:-cifarlab-students} and ${CIFARLAB_HUB_TEACHERS:-cifarlab-teachers}; kept), "; fi
say "as root, this creates: ${install}nbgrader's course ${CIFARLAB_HUB_EXCHANGE:-/srv/cifarlab/exchange}/cifarlab-test$$ (removed at the end), the Unix users chsa$$ chsb$$ chsc$$ chta$$ with homes in /home and their groups chs$$ cht$$ (removed at the end, with all they own in /tmp: their private temporary folders /tmp/cifarlab-tmp-UID and what the test plants there), cgroups $cgroups for each student (the cifarlab-hub parent kept), /tmp/cifarlab-hub-test.*, hub/node_modules and out/hub; CIFARLAB_SKIP_HUB=1 skips this test"
[ "${1:-}" = --skip-setup ] || "$HERE/setup.sh"
VENV=$PREFIX/hub

rm -rf "$OUT"; mkdir -p "$OUT"
# npm dependencies of the test (playwright-core), from hub/package-lock.json.
stamp=$(cat "$HERE/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$HERE/node_modules/.cifarlab-stamp" 2>/dev/null)" != "$stamp" ]; then
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
  echo "$stamp" >"$HERE/node_modules/.cifarlab-stamp"
fi

tag=$$
COURSE=cifarlab-test$tag EXCHANGE=${CIFARLAB_HUB_EXCHANGE:-/srv/cifarlab/exchange}
SG=chs$tag TG=cht$tag
A=chsa$tag B=chsb$tag C=chsc$tag T=chta$tag
STATE=$(mktemp -d /tmp/cifarlab-hub-test.XXXXXX)
HUB_PID="" SAMPLER=""
users_of_test() { echo "$A $B $C $T"; }
cleanup() {
  set +e
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  if [ -n "$HUB_PID" ] && kill -0 "$HUB_PID" 2>/dev/null; then kill "$HUB_PID"; sleep 5; kill -9 "$HUB_PID" 2>/dev/null; fi
  [ -f "$STATE/proxy.pid" ] && kill "$(cat "$STATE/proxy.pid")" 2>/dev/null
  for u in $(users_of_test); do
    for p in $(pgrep -u "$u" 2>/dev/null); do kill "$p" 2>/dev/null; done
  done
  sleep 1
  for u in $(users_of_test); do
    for p in $(pgrep -u "$u" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    if id "$u" >/dev/null 2>&1; then
      find /tmp /var/tmp -xdev -user "$u" -prune -exec rm -rf {} + 2>/dev/null
      userdel -r "$u" >/dev/null 2>&1 || userdel -f -r "$u" >/dev/null 2>&1
    fi
    rm -rf "/home/$u"
    for cg in /sys/fs/cgroup/cpu/cifarlab-hub/$u /sys/fs/cgroup/memory/cifarlab-hub/$u /sys/fs/cgroup/pids/cifarlab-hub/$u /sys/fs/cgroup/cifarlab-hub/$u; do
      [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
    done
  done
  groupdel "$SG" 2>/dev/null; groupdel "$TG" 2>/dev/null
  rm -rf "$STATE" "${EXCHANGE:?}/${COURSE:?}"
}
trap cleanup EXIT
groupadd "$SG"; groupadd "$TG"
declare -A PW
for u in $A $B $C; do useradd -m -s /bin/bash -G "$SG" "$u"; done
useradd -m -s /bin/bash -G "$TG" "$T"
for u in $A $B $C $T; do
  PW[$u]=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$u:${PW[$u]}" | chpasswd
done
say "users: students $A $B $C (group $SG), teacher $T (group $TG)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) API_PORT=$(free_port) PROXY_API_PORT=$(free_port)
export CIFARLAB_HUB_IP=127.0.0.1 CIFARLAB_HUB_PORT=$PORT CIFARLAB_HUB_API_PORT=$API_PORT \
  CIFARLAB_HUB_PROXY_API_PORT=$PROXY_API_PORT CIFARLAB_HUB_STATE=$STATE \
  CIFARLAB_HUB_STUDENTS=$SG CIFARLAB_HUB_TEACHERS=$TG CIFARLAB_QUICK=1 CIFARLAB_HUB_IDLE_TIMEOUT=90 \
  CIFARLAB_HUB_COURSE=$COURSE CIFARLAB_HUB_EXCHANGE=$EXCHANGE
# The memory and process limits are the defaults (3 GiB, 1024): the test must not set them.
unset CIFARLAB_HUB_MEM_LIMIT CIFARLAB_HUB_PIDS_LIMIT
URL=http://127.0.0.1:$PORT
(cd "$STATE" && exec setsid "$VENV/bin/jupyterhub" -f "$VENV/etc/jupyterhub/jupyterhub_config.py") >"$OUT/jupyterhub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 120); do
  curl -fsS "$URL/hub/health" >/dev/null 2>&1 && break
  kill -0 "$HUB_PID" 2>/dev/null || break
  sleep 0.5
done
if curl -fsS "$URL/hub/health" >/dev/null 2>&1; then ok "JupyterHub $("$VENV/bin/jupyterhub" --version) on $URL (configurable-http-proxy; the hub's API on 127.0.0.1:$API_PORT)"
else bad "JupyterHub did not start (log: $OUT/jupyterhub.log)"; tail -20 "$OUT/jupyterhub.log"; echo "$pass passed, $fail failed"; exit 1; fi
if ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E ":($PORT|$API_PORT|$PROXY_API_PORT)\$" | grep -vq '^127\.0\.0\.1:'; then
  bad "a hub port listens beyond 127.0.0.1: $(ss -ltnH | grep -E ":($PORT|$API_PORT|$PROXY_API_PORT) ")"
else ok "the hub, its API and the proxy's API listen on 127.0.0.1 only"; fi

students_json() { local s="" u; for u in "$@"; do s="$s${s:+,}{\"name\":\"$u\",\"password\":\"${PW[$u]}\"}"; done; echo "[$s]"; }
# Peak memory: each student's memory cgroup (the spawner makes cifarlab-hub/USER), reset per phase.
CGM=/sys/fs/cgroup/memory/cifarlab-hub
reset_peaks() { for f in "$CGM"/memory.max_usage_in_bytes "$CGM"/*/memory.max_usage_in_bytes; do [ -f "$f" ] && echo 0 >"$f" 2>/dev/null; done; true; }
mib() { echo $(( ${1:-0} / 1048576 )); }
# RSS of the students' processes, summed, sampled every second (the largest sum is kept).
rss_sampler() { # file users...
  set +e
  local f=$1; shift
  local max=0 cur
  while :; do
    ps -o rss=,comm= -u "$(IFS=,; echo "$*")" 2>/dev/null >>"$f.procs"
    for u in "$@"; do # the peak count of processes and threads in each student's pids cgroup
      cur=$(cat "/sys/fs/cgroup/pids/cifarlab-hub/$u/pids.current" 2>/dev/null || echo 0)
      [ "$cur" -gt "$(cat "$f.tasks.$u" 2>/dev/null || echo 0)" ] && echo "$cur" >"$f.tasks.$u"
    done
    cur=$(for u in "$@"; do ps -u "$u" -o rss= 2>/dev/null; done | awk '{s+=$1} END {print s+0}')
    [ "$cur" -gt "$max" ] && max=$cur && echo "$max" >"$f"
    sleep 1
  done
}

run_phase() { # name isolation users...
  local name=$1 iso=$2; shift 2
  reset_peaks
  echo 0 >"$OUT/rss-$name"
  rss_sampler "$OUT/rss-$name" "$@" &
  local sampler=$! t0 rc=0
  SAMPLER=$sampler
  t0=$(date +%s)
  HUB_URL=$URL OUT=$OUT HUB_STUDENTS=$(students_json "$@") HUB_CHECK_ISOLATION=$iso \
    HUB_TEACHER=$([ "$iso" = 1 ] && echo "{\"name\":\"$T\",\"password\":\"${PW[$T]}\"}") HUB_CHECK_LIMITS=$iso \
    node "$HERE/test.mjs" >"$OUT/test-$name.log" 2>&1 || rc=$?
  local secs=$(( $(date +%s) - t0 ))
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  local res
  res=$(sed -n 's/^RESULT //p' "$OUT/test-$name.log")
  echo "$res" >"$OUT/result-$name.json"
  if [ "$rc" = 0 ]; then ok "$name: $# student(s) logged in, Run All of exercise2.ipynb (quick) without errors, PDF exported (menu and terminal) in ${secs}s"
  else bad "$name: test.mjs exited $rc:"; { echo "$res" | python3 -c 'import json,sys; [print("      ", f) for f in json.load(sys.stdin)["failures"]]' 2>/dev/null || tail -20 "$OUT/test-$name.log"; }; fi
  local peaks="" total=0 p u tasks=""
  for u in "$@"; do
    p=$(cat "$CGM/$u/memory.max_usage_in_bytes" 2>/dev/null || echo 0)
    total=$((total + p)); peaks="$peaks $u=$(mib "$p")MiB"
    tasks="$tasks $u=$(cat "$OUT/rss-$name.tasks.$u" 2>/dev/null || echo 0)"
  done
  echo "$res" | python3 -c '
import json, sys
r = json.load(sys.stdin)
for n, s in r["students"].items():
    print("   ", n, " ".join("%s=%s" % (k, v) for k, v in s.items() if k != "isolation" and k != "labs"))
    if "isolation" in s: print("    isolation:", json.dumps(s["isolation"]))
if "teacher" in r: print("    teacher:", json.dumps(r["teacher"]))' 2>/dev/null || true
  # The largest RSS seen of each kind of process (any student): the kernel, gopls, the cell programs.
  say "$name: peak RSS by process: $(awk '{n=$2; if (n ~ /^gonb_|^main$|^exec_/) n="cell-program(" n ")"; if ($1>m[n]) m[n]=$1} END {for (k in m) if (m[k] > 20000) printf "%s=%dMiB ", k, m[k]/1024}' "$OUT/rss-$name.procs" 2>/dev/null)"
  say "$name: peak processes and threads per student (pids cgroup, sampled each second):$tasks"
  say "$name: wall ${secs}s; peak memory per student (cgroup, incl. page cache):$peaks; sum of peaks $(mib $total) MiB; peak RSS of all their processes $(( $(cat "$OUT/rss-$name") / 1024 )) MiB"
  printf '{"phase":"%s","students":%d,"wall_s":%d,"cgroup_peak_sum_mib":%d,"rss_peak_mib":%d,"result":%s}\n' \
    "$name" "$#" "$secs" "$(mib $total)" "$(( $(cat "$OUT/rss-$name") / 1024 ))" "${res:-null}" >>"$OUT/timings.json"
}

check_home() { # user
  local u=$1 h=/home/$1 owner
  if [ -f "$h/cifarlab-labs/exercise2.pdf" ] && pdftotext "$h/cifarlab-labs/exercise2.pdf" - 2>/dev/null | grep -q 'Test accuracy'; then
    owner=$(stat -c %U "$h/cifarlab-labs/exercise2.pdf")
    if [ "$owner" = "$u" ]; then ok "$u: ~/cifarlab-labs/exercise2.pdf (theirs, with the test accuracy)"; else bad "$u: the PDF belongs to $owner"; fi
  else bad "$u: no ~/cifarlab-labs/exercise2.pdf with the test accuracy"; fi
  local runs
  runs=$(find "$h/.cache/cifarlab/runs-quick" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l || true)
  if [ "$runs" -ge 1 ] && [ -z "$(find "$h/.cache/cifarlab" ! -user "$u" 2>/dev/null | head -1)" ]; then ok "$u: $runs run(s) in ~/.cache/cifarlab/runs-quick, all theirs"
  else bad "$u: no runs of their own in ~/.cache/cifarlab/runs-quick"; fi
  if [ "$(stat -c %a "$h")" = 700 ]; then ok "$u: home mode 700"; else bad "$u: home mode $(stat -c %a "$h")"; fi
}

# Phase 1: one student alone.
run_phase one 0 "$A"
# Before B's and C's first start, classmates plant what the spawner must refuse under the names
# of their private temporary folders: C a folder open to all (with a file in it) for B, B a
# symlink to a folder of B's for C.
UB=$(id -u "$B") UC=$(id -u "$C") TRAP=/tmp/cifarlab-hub-test-trap.$tag
runuser -u "$C" -- sh -c "mkdir -m 777 /tmp/cifarlab-tmp-$UB && echo planted >/tmp/cifarlab-tmp-$UB/planted && chmod 666 /tmp/cifarlab-tmp-$UB/planted"
runuser -u "$B" -- sh -c "mkdir -m 777 $TRAP && ln -s $TRAP /tmp/cifarlab-tmp-$UC"
# A's first Run All built against the shared build cache (gocacheprog): the packages compiled at
# set-up were read from it; A's own cache holds little more than the cells' main packages (and
# what gopls and go list keep), a few per cent of the shared one's bytes.
own=$(du -sb "/home/$A/.cache/cifarlab/gocache" 2>/dev/null | cut -f1)
shared=$(du -sb "$PREFIX/gocache" 2>/dev/null | cut -f1)
if [ "${shared:-0}" -ge $((100 << 20)) ] && [ "${own:-0}" -ge 1 ] && [ "$own" -lt $((shared / 20)) ]; then
  ok "$A: the first Run All read the shared build cache ($(mib "$shared") MiB) and wrote $(mib "$own") MiB of their own (the cells)"
else bad "$A: their own build cache holds $(mib "${own:-0}") MiB, the shared one $(mib "${shared:-0}") MiB (want under 5%)"; fi
# Phase 2: three at once; A's runs go, so that A trains again.
rm -rf "/home/$A/.cache/cifarlab/runs-quick"
run_phase three 1 "$A" "$B" "$C"
for u in $A $B $C; do check_home "$u"; done
check_tmp() { # user planter
  local u=$1 d=/tmp/cifarlab-tmp-$(id -u "$1") aside
  if [ -d "$d" ] && [ ! -L "$d" ] && [ "$(stat -c '%a %U' "$d")" = "700 $u" ]; then ok "$u: $d is a real folder, mode 700, theirs"
  else bad "$u: $d is not a real folder of theirs with mode 700: $(ls -ld "$d" 2>&1)"; fi
  [ -n "${2:-}" ] || return 0
  aside=$(ls -d "$d".refused-* 2>/dev/null | head -1)
  if [ -n "$aside" ] && [ "$(stat -c %U "$aside")" = "$2" ]; then ok "$u: what $2 planted as $d was moved aside ($(stat -c %F "$aside"), $2's): $aside"
  else bad "$u: what $2 planted as $d was not moved aside: $(ls -ld "$d"* 2>&1 | tr '\n' ';')"; fi
}
check_tmp "$A"; check_tmp "$B" "$C"; check_tmp "$C" "$B"
# The limits (defaults: 3 GiB, 1024 processes and threads): set on each student's cgroup; A's
# runaway cell was the only one the memory limit stopped; the hub stayed up.
for u in $A $B $C; do
  lim=$(cat "$CGM/$u/memory.limit_in_bytes" 2>/dev/null) pmax=$(cat "/sys/fs/cgroup/pids/cifarlab-hub/$u/pids.max" 2>/dev/null)
  kills=$(awk '$1 == "oom_kill" {print $2}' "$CGM/$u/memory.oom_control" 2>/dev/null)
  refused=$(awk '$1 == "max" {print $2}' "/sys/fs/cgroup/pids/cifarlab-hub/$u/pids.events" 2>/dev/null)
  if [ "$lim" = $((3 << 30)) ] && [ "$pmax" = 1024 ]; then ok "$u: memory limit 3 GiB and 1024 processes and threads (the defaults; oom kills ${kills:-?}, forks refused ${refused:-?})"
  else bad "$u: memory limit ${lim:-none}, pids.max ${pmax:-none} (want 3 GiB, 1024)"; fi
  if [ "$u" = "$A" ]; then [ "${kills:-0}" -ge 1 ] && [ "${refused:-0}" -ge 1 ] && ok "$A: the memory limit stopped their runaway cell ($kills oom kill(s)) and the process limit their forks ($refused refused)" \
    || bad "$A: oom kills ${kills:-?}, forks refused ${refused:-?} (want >= 1 each)"
  elif [ "${kills:-0}" = 0 ]; then ok "$u: trained while $A's cell ran out of memory, nothing of theirs killed"
  else bad "$u: $kills of their processes killed by the memory limit"; fi
done
if curl -fsS "$URL/hub/health" >/dev/null 2>&1; then ok "the hub is up after the limits were hit"; else bad "the hub is down after the limits were hit"; fi
if [ "$(stat -c '%a %U' "$TRAP")" = "777 $B" ] && [ -z "$(ls -A "$TRAP")" ] && [ "$(cat /tmp/cifarlab-tmp-$UB.refused-*/planted)" = planted ]; then
  ok "the symlink was not followed ($TRAP still $B's, 777, empty) and the planted folder kept its file"
else bad "the planted symlink's target or folder changed: $(ls -ld "$TRAP"; ls -A "$TRAP")"; fi
if runuser -u "$B" -- ls "/tmp/cifarlab-tmp-$UC" >/dev/null 2>&1; then bad "$B can list $C's temporary folder"; else ok "$B cannot list $C's temporary folder (runuser)"; fi
# A later start (a teacher's update of the originals) copies only what the student lacks: A's
# saved exercise2.ipynb stays as A left it, a deleted compare.ipynb comes back.
before=$(sha256sum "/home/$A/cifarlab-labs/exercise2.ipynb" | cut -d' ' -f1)
rm -f "/home/$A/cifarlab-labs/compare.ipynb"
"$VENV/bin/python" -c '
import sys, types
from cifarlab_spawner import CifarlabSpawner
s = types.SimpleNamespace(user=types.SimpleNamespace(name=sys.argv[1]), labs_source=sys.argv[2], labs_dir="cifarlab-labs")
CifarlabSpawner.copy_labs(s)' "$A" "$PREFIX/cifarlab/notebooks"
if [ "$(sha256sum "/home/$A/cifarlab-labs/exercise2.ipynb" | cut -d' ' -f1)" = "$before" ] && ! cmp -s "/home/$A/cifarlab-labs/exercise2.ipynb" "$PREFIX/cifarlab/notebooks/exercise2.ipynb" \
  && [ "$(stat -c %U "/home/$A/cifarlab-labs/compare.ipynb" 2>/dev/null)" = "$A" ]; then
  ok "$A: copying the labs again keeps their saved exercise2.ipynb and restores a deleted compare.ipynb (theirs)"
else bad "$A: copying the labs again overwrote their notebook or did not restore compare.ipynb"; fi
# From root's side too: A cannot read B's notebook or write the shared data.
if runuser -u "$A" -- cat "/home/$B/cifarlab-labs/exercise2.ipynb" >/dev/null 2>&1; then bad "$A can read $B's notebook"; else ok "$A cannot read $B's notebook (runuser)"; fi
if [ -z "$(find "$PREFIX" -perm /022 ! -type l 2>/dev/null | head -1)" ] && [ -z "$(find "$PREFIX" ! -user root 2>/dev/null | head -1)" ]; then
  ok "$PREFIX (data, modules, tools, plugin, the hub) is root's and writable by no one else"
else bad "$PREFIX has files writable by others or not root's: $(find "$PREFIX" \( -perm /022 ! -type l \) -o ! -user root | head -3)"; fi

# Phase 3: nbgrader's round trip in the browser (hub/grading.mjs): teacher T, students A (right) and B (wrong).
t0=$(date +%s) rc=0
HUB_URL=$URL OUT=$OUT HUB_STUDENTS=$(students_json "$A" "$B") HUB_TEACHER="{\"name\":\"$T\",\"password\":\"${PW[$T]}\"}" \
  node "$HERE/grading.mjs" >"$OUT/test-grading.log" 2>&1 || rc=$?
res=$(sed -n 's/^RESULT //p' "$OUT/test-grading.log")
echo "$res" >"$OUT/result-grading.json"
if [ "$rc" = 0 ]; then
  ok "nbgrader: released, fetched and submitted by $A and $B, collected, autograded ($(echo "$res" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(", ".join("%s %s" % kv for kv in r["teacher"]["scores"].items()))' 2>/dev/null)), feedback released and fetched, each student's alone, in $(( $(date +%s) - t0 ))s"
else
  bad "nbgrader (hub/grading.mjs exited $rc): $(echo "$res" | python3 -c 'import json,sys; print("; ".join(json.load(sys.stdin)["failures"]))' 2>/dev/null || tail -5 "$OUT/test-grading.log")"
fi
echo "$res" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("    teacher:", json.dumps(r.get("teacher")))
for n, s in r.get("students", {}).items(): print("   ", n, json.dumps(s))' 2>/dev/null || true
printf '{"phase":"grading","wall_s":%d,"result":%s}\n' "$(( $(date +%s) - t0 ))" "${res:-null}" >>"$OUT/timings.json"
# From the shell: the exchange keeps the students apart (inbound and feedback cannot be listed by
# a student), and a student's feedback is in their home only.
X=$EXCHANGE/$COURSE
if [ -d "$X/inbound" ] && ! runuser -u "$B" -- ls "$X/inbound" >/dev/null 2>&1 && ! runuser -u "$B" -- ls "$X/feedback" >/dev/null 2>&1; then
  ok "$B cannot list the exchange's inbound (the submissions) or feedback folders ($X)"
else bad "$B can list $X/inbound or $X/feedback (or the exchange has no course $COURSE)"; fi
fa=$(ls /home/$A/cifarlab-labs/exercise2/feedback/*/exercise2.html 2>/dev/null | head -1)
if [ -n "$fa" ] && [ "$(stat -c %U "$fa")" = "$A" ] && ! runuser -u "$B" -- cat "$fa" >/dev/null 2>&1; then
  ok "$A's feedback is $A's, in their home, unreadable by $B ($fa)"
else bad "$A's feedback: ${fa:-none} ($(ls -l "$fa" 2>&1))"; fi
if [ -f "/home/$T/cifarlab-course/gradebook.db" ] && [ -d "/home/$T/cifarlab-course/autograded/$A" ] && [ "$(stat -c %U "/home/$T/cifarlab-course/gradebook.db")" = "$T" ]; then
  ok "the teacher's course: ~$T/cifarlab-course (source from the hub, gradebook, autograded submissions), theirs"
else bad "the teacher's course folder: $(ls -la "/home/$T/cifarlab-course" 2>&1 | tr '\n' ';')"; fi

# The idle culler (CIFARLAB_HUB_IDLE_TIMEOUT=90 here): every student's server, left idle since
# phase 2, is stopped by it, with all their processes.
t0=$(date +%s)
for _ in $(seq 300); do
  left=$(for u in $A $B $C; do pgrep -u "$u" >/dev/null && echo "$u"; done; true)
  [ -z "$left" ] && break
  sleep 1
done
culled=$(grep -c 'idle-culler.*DELETE /hub/api/users/[^/]*/server\|Culling server' "$OUT/jupyterhub.log" || true)
if [ -z "$left" ] && [ "$culled" -ge 1 ]; then ok "the idle culler stopped every student's idle server (timeout 90 s; the last one $(( $(date +%s) - t0 ))s after the checks)"
else bad "servers still running $(( $(date +%s) - t0 ))s after the checks with an idle timeout of 90 s: ${left:-none} (culler lines in the log: $culled)"; fi

# Stop: SIGTERM to the hub stops every student's server (and so their kernels) and the proxy.
proxy_pid=$(cat "$STATE/proxy.pid" 2>/dev/null || true)
t0=$(date +%s)
kill -TERM "$HUB_PID"
for _ in $(seq 60); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 1; done
left=""
for _ in $(seq 20); do
  left=$(for u in $(users_of_test); do pgrep -u "$u" -a 2>/dev/null; done; kill -0 "$HUB_PID" 2>/dev/null && echo "hub $HUB_PID"; [ -n "$proxy_pid" ] && kill -0 "$proxy_pid" 2>/dev/null && echo "proxy $proxy_pid"; true)
  [ -z "$left" ] && break
  sleep 1
done
if [ -z "$left" ]; then ok "the hub, the proxy, every server and kernel stopped in $(( $(date +%s) - t0 ))s"; HUB_PID=""
else bad "still running after the hub's SIGTERM: $(echo "$left" | head -5 | tr '\n' ';')"; fi

echo "hub test: timings in $OUT/timings.json, logs and screenshots in $OUT"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
