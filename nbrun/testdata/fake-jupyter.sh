#!/bin/bash
# A stand-in for jupyter in nbrun's tests: it answers "nbconvert --version", writes HTML for
# "--to html", and for "--to notebook --execute" behaves as FAKE_MODE says:
#   pass: copy $FAKE_EXECUTED to the executed notebook and exit 0
#   fail: exit 1 without writing it
#   hang: ignore SIGINT and never end (a stuck nbconvert)
# With FAKE_TAG set it first starts what a GoNB kernel leaves running, every process running
# "sleep $FAKE_TAG": the kernel in a session of its own, a cell program that ignores SIGTERM, a
# gopls in a session of its own and a daemon whose parent exits at once (an orphan).
set -u
if [ "$1" = nbconvert ] && [ "${2:-}" = --version ]; then
	echo 7.16.0
	exit 0
fi
to= outdir= output= nb=
while [ $# -gt 0 ]; do
	case "$1" in
	--to) to=$2; shift ;;
	--output-dir) outdir=$2; shift ;;
	--output) output=$2; shift ;;
	*) nb=$1 ;;
	esac
	shift
done
if [ "$to" = html ]; then
	echo '<html><head></head><body><h1>fake</h1></body></html>' >"$outdir/$output.html"
	exit 0
fi
if [ -n "${FAKE_TAG:-}" ]; then
	setsid bash -c '
		(trap "" TERM; exec sleep "$FAKE_TAG") &
		setsid sleep "$FAKE_TAG" &
		(sleep "$FAKE_TAG" &)
		exec sleep "$FAKE_TAG"' &
	sleep 0.3
fi
case "${FAKE_MODE:-pass}" in
pass)
	cp "$FAKE_EXECUTED" "$outdir/$output.ipynb"
	exit 0
	;;
fail)
	echo "DeadKernelError: Kernel died" >&2
	exit 1
	;;
hang)
	trap '' INT
	while :; do sleep 0.05; done
	;;
esac
