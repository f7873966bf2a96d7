#!/usr/bin/env bash
# The student's path, end to end (run as root; it makes and removes a user of its own):
#   1. as root, only the Debian packages that every user needs: kernel-setup/setup.sh --system
#      (what a student without root asks an administrator for);
#   2. a normal user (useradd -m; removed with its home and its files in /tmp at the end, also on
#      failure), whose login shell has the system's PATH, no pyenv, and Go where an installed Go is
#      put: /usr/local/go/bin, added to PATH in ~/.profile as Go's install instructions say;
#   3. as that user: git clone of this clone's committed HEAD (or --rev REV), then the README's
#      first command for a PDF, ./labs.sh pdf notebooks/exercise2.ipynb, with CIFARLAB_QUICK=1 and
#      CIFAR10_DIR at the data set (../shared/cifar10 of this clone, or $CIFAR10_DIR; it must be
#      readable by the user): the set-up installs JupyterLab with the system's /usr/bin/python3
#      into the user's home, builds the Go tools there, and nbrun writes out/exercise2.pdf;
#   4. checks: the set-up chose JupyterLab (no fallback) with /usr/bin/python3, everything it made
#      is in the user's home, the PDF's text has "Test accuracy";
#   5. the same (set-up with CIFARLAB_PYTHON, then the PDF) for every other Python 3 on the user's
#      PATH (python3.N), and for each --python PATH.
# Usage: kernel-setup/student-test.sh [--rev REV] [--python PATH]... [--keep]
#   --rev REV   clone that commit instead of HEAD (e.g. one from before the fix: the test fails)
#   --keep      keep the user and its home (print how to remove them)
# The first run of a user builds the Go tools and downloads Go modules and wheels into its home:
# about 10 minutes on 2 cores (see kernel-setup/README.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
REV=HEAD KEEP=0 EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) REV=$2; shift ;;
    --python) EXTRA+=("$2"); shift ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--rev REV] [--python PATH]... [--keep]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "student-test.sh: run it as root (it adds and removes a user)" >&2; exit 1; }
DATA=${CIFAR10_DIR:-$REPO/../shared/cifar10}
[ -d "$DATA" ] || { echo "student-test.sh: no data set at $DATA (set CIFAR10_DIR)" >&2; exit 1; }
DATA=$(cd "$DATA" && pwd)
[ -x /usr/local/go/bin/go ] || { echo "student-test.sh: Go is not at /usr/local/go (where the test user finds it)" >&2; exit 1; }

fail=0 pass=0
ok()  { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }
t0=$(date +%s)

# 1. The administrator's part.
echo "== as root: kernel-setup/setup.sh --system"
"$HERE/setup.sh" --system

# 2. The user.
U=cifarstudent$$
H=/home/$U
STAGE=$(mktemp -d)
cleanup() {
  local pids
  if [ "$KEEP" = 1 ]; then
    echo "student-test.sh: kept user $U ($H); remove with: userdel -r $U"
  else
    # Whatever the user left running (a kernel, gopls), by process id; then the user, its home
    # and its files in /tmp (GoNB's temporary modules).
    pids=$(pgrep -u "$U" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      for p in $pids; do kill "$p" 2>/dev/null || true; done
      sleep 2
      for p in $(pgrep -u "$U" 2>/dev/null || true); do kill -9 "$p" 2>/dev/null || true; done
    fi
    if id "$U" >/dev/null 2>&1; then
      find /tmp /var/tmp -xdev -user "$U" -prune -exec rm -rf {} + 2>/dev/null || true
      userdel -r "$U" 2>/dev/null || userdel -f -r "$U" 2>/dev/null || true
      rm -rf "$H"
    fi
  fi
  rm -rf "$STAGE"
}
trap cleanup EXIT
useradd -m -d "$H" -s /bin/bash "$U"
# As Go's install instructions say (or an administrator's /etc/profile.d would do it for all).
echo 'export PATH=$PATH:/usr/local/go/bin' >>"$H/.profile"
as_user() { runuser -l "$U" -c "$1"; }   # a login shell: the system's PATH, ~/.profile, nothing of root's
echo "== user $U: PATH=$(as_user 'echo $PATH'), $(as_user 'command -v python3') is $(as_user 'python3 -V 2>&1'), $(as_user 'go version')"
if as_user 'command -v pyenv' >/dev/null; then bad "the user has pyenv"; fi
readable() { as_user "test -r '$DATA/cifar-10-batches-py/test_batch' || test -r '$DATA/test_batch'"; }
if ! readable; then
  # A data set that only root can read (a CI copy without read bits for others): a copy that the
  # user can read, as a course would provide one.
  echo "   (the user cannot read $DATA: copying it to $STAGE/cifar10)"
  cp -r "$DATA" "$STAGE/cifar10" && chmod -R a+rX "$STAGE/cifar10" && chmod 755 "$STAGE" && DATA=$STAGE/cifar10
fi
if readable; then ok "the user can read the data set at $DATA"
else bad "the user cannot read the data set at $DATA"; exit 1; fi

# 3. The clone: of the committed REV, through a bundle (whatever the permissions of this clone).
sha=$(git -C "$REPO" rev-parse --verify "$REV^{commit}")
git clone -q --no-checkout "$REPO" "$STAGE/repo"
git -C "$STAGE/repo" branch -q -f student "$sha"
git -C "$STAGE/repo" bundle create -q "$STAGE/cifarlab.bundle" student 2>/dev/null \
  || git -C "$STAGE/repo" bundle create "$STAGE/cifarlab.bundle" student
chmod 755 "$STAGE"; chmod 644 "$STAGE/cifarlab.bundle"
as_user "git clone -q -b student '$STAGE/cifarlab.bundle' ~/cifarlab"
echo "== user $U: cloned $(as_user 'git -C ~/cifarlab log --oneline -1')"

run_pdf() { # label [env assignments]: the README's command as the user; sets LOG, RC, SECS
  local label=$1 envs=${2:-}
  LOG="$STAGE/labs-$label.log"
  local t1
  t1=$(date +%s)
  RC=0
  as_user "cd ~/cifarlab && $envs CIFARLAB_QUICK=1 CIFAR10_DIR='$DATA' ./labs.sh pdf notebooks/exercise2.ipynb" >"$LOG" 2>&1 || RC=$?
  SECS=$(( $(date +%s) - t1 ))
  echo "== user $U ($label): ./labs.sh pdf notebooks/exercise2.ipynb exited $RC after ${SECS}s"
  grep -E '^  (install|MISSING|note) |^kernel-setup: |Python: |Jupyter: |^ERROR: ' "$LOG" | cut -c1-400 | sed 's/^/    /' || true
}

check_pdf() { # label python-version-line
  local label=$1 want_py=$2 pdf=$H/cifarlab/out/exercise2.pdf
  if [ "$RC" = 0 ]; then ok "$label: labs.sh pdf exited 0 (${SECS}s)"; else bad "$label: labs.sh pdf exited $RC (its output: above, and the last lines:)"; grep -v '^go: downloading' "$LOG" | tail -15 | cut -c1-400 | sed 's/^/    /'; fi
  if grep -q 'Jupyter: JupyterLab 4' "$LOG" && ! grep -q 'classic Jupyter Notebook' "$LOG"; then ok "$label: the set-up chose $(grep -o 'JupyterLab [0-9.]* with nbconvert [0-9.]*' "$LOG" | head -1)"
  else bad "$label: the set-up did not install JupyterLab 4"; fi
  if [ -n "$want_py" ]; then
    if grep -q "Python: $want_py" "$LOG"; then ok "$label: made the venv with Python $want_py"
    else bad "$label: not made with Python $want_py"; fi
  fi
  if [ -f "$pdf" ] && pdftotext "$pdf" - | grep -q 'Test accuracy'; then ok "$label: ~/cifarlab/out/exercise2.pdf has \"Test accuracy\" ($(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}') pages)"
  else bad "$label: no ~/cifarlab/out/exercise2.pdf with \"Test accuracy\""; fi
  rm -f "$pdf"
}

# 4. The system's Python, as the set-up finds it.
sys_py=$(as_user '/usr/bin/python3 -c "import sys; print(\"%d.%d.%d\" % sys.version_info[:3])"')
run_pdf system
check_pdf "/usr/bin/python3 $sys_py" "$sys_py (/usr/bin/python3"
for f in "$H/.local/share/cifarlab/jupyter/bin/jupyter-lab" "$H/.local/share/cifarlab/gonb-tools/bin/gonb" \
         "$H/.local/share/jupyter/kernels/gonb/kernel.json"; do
  [ -e "$f" ] && ok "in the user's home: ${f#"$H"/}" || bad "missing in the user's home: ${f#"$H"/}"
done
outside=$(find / -xdev -user "$U" -not -path "$H" -not -path "$H/*" -not -path '/tmp/*' -not -path '/var/tmp/*' \
  -not -path '/proc/*' -not -path '/var/mail/*' -not -path '/var/spool/mail/*' 2>/dev/null | head -5)
[ -z "$outside" ] && ok "the user's set-up wrote nothing outside its home and /tmp" || bad "files of the user outside its home: $outside"

# 5. Every other Python 3 the user has, and the ones asked for.
others=$(as_user 'for v in 10 11 12 13 14 15 16; do p=$(command -v python3.$v) && readlink -f "$p"; done; true' \
  | sort -u | grep -vx "$(readlink -f /usr/bin/python3)" || true)
for p in $others "${EXTRA[@]}"; do
  v=$(as_user "'$p' -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'") || { bad "$p does not run as the user"; continue; }
  run_pdf "python-$v" "CIFARLAB_PYTHON='$p'"
  check_pdf "$p $v" "$v ($p"
done
[ -n "$others" ] || echo "   (no other Python 3 on the user's PATH; the others on this machine: kernel-setup/lock-test.sh)"

echo "student-test: $pass passed, $fail failed ($(( $(date +%s) - t0 ))s)"
[ "$fail" = 0 ]
