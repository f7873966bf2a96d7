#!/usr/bin/env bash
# Sourced by the bench scripts: makes sure /usr/bin/python3 can import torch and numpy with the
# threaded OpenBLAS (Debian python3-torch, python3-numpy, libopenblas0-pthread; without the threaded
# OpenBLAS torch falls back to the reference BLAS, several times slower and no fair reference),
# installing them when run as root, else saying what to install and exiting.
if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || ! ldconfig -p | grep -q libopenblas.so.0; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing python3-torch, python3-numpy and libopenblas0-pthread ..." >&2
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy libopenblas0-pthread >/dev/null
	else
		echo "$0: needs /usr/bin/python3 with torch and numpy, and the threaded OpenBLAS: apt-get install python3-torch python3-numpy libopenblas0-pthread" >&2
		exit 1
	fi
fi
