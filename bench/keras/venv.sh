# Sourced by run.sh: makes bench/keras/.venv from requirements.txt (pinned, hashed) when missing or
# stale, and sets KERAS_PY. Idempotent: the venv is stamped with the hash of requirements.txt and
# python3's version; a new one is built in a temporary folder next to it and renamed into place,
# so an interrupted install never leaves a half-made venv behind.
keras_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keras_venv=$keras_dir/.venv
case "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" in
	3.11 | 3.12 | 3.13) ;;
	*) echo "bench/keras: needs CPython 3.11 to 3.13 (TensorFlow 2.20's pinned wheels; Debian 12's /usr/bin/python3 3.11.2 works); python3 is $(python3 -V 2>&1)" >&2
	   return 1 2>/dev/null || exit 1 ;;
esac
keras_want="$(sha256sum "$keras_dir/requirements.txt" | cut -d' ' -f1) $(python3 -c 'import sys; print(sys.version.split()[0])')"
if [ "$(cat "$keras_venv/.stamp" 2>/dev/null)" != "$keras_want" ]; then
	echo "bench/keras: installing TensorFlow 2.20 CPU, Keras 3, SciPy and Matplotlib into $keras_venv" >&2
	echo "  (about 600 MB of wheels: typically 2-5 minutes the first time, seconds afterwards)" >&2
	keras_t0=$(date +%s)
	keras_tmp=$(mktemp -d "$keras_dir/.venv.tmp.XXXXXX")
	python3 -m venv "$keras_tmp"
	"$keras_tmp/bin/python" -m pip install -q --disable-pip-version-check --no-deps --require-hashes \
		-r "$keras_dir/requirements.txt"
	echo "$keras_want" >"$keras_tmp/.stamp"
	# A venv's scripts name its folder: rebuild them for the final path by re-creating in place.
	rm -rf "$keras_venv"
	mv "$keras_tmp" "$keras_venv"
	python3 -m venv --upgrade "$keras_venv" >/dev/null
	echo "bench/keras: venv ready in $(($(date +%s) - keras_t0)) s" >&2
fi
KERAS_PY=$keras_venv/bin/python
