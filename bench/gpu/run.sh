#!/usr/bin/env bash
# cifarlab's training benchmark on XLA CUDA, for the GPU machine that some tasks are lent (no
# network, no Go; its Python holds jax-cuda13-pjrt 0.11.2 and the nvidia-* CUDA libraries).
#
#   bash bench/gpu/run.sh            here: build bench/gpu/bin/train (the bench/train program, with
#                                    go-xla linked in) and print the device command
#   bash bench/gpu/run.sh --device   there: find the CUDA PJRT plugin and the CUDA libraries in
#                                    Python's site-packages, run lab 3's epoch and step and exercise
#                                    2's step on XLA CUDA, then on XLA CPU if a CPU plugin is there;
#                                    one JSON line per figure
#
# The device tool carries the binary (carry: ["bench/gpu/bin"]); bench/gpu/bin is not committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bench/gpu/bin/train

if [ "${1:-}" != --device ]; then
	mkdir -p bench/gpu/bin
	GOEXPERIMENT=${GOEXPERIMENT:-simd} go build -trimpath -o "$bin" ./bench/train
	echo "built $bin ($(du -h "$bin" | cut -f1)); on the device machine run:" >&2
	echo "  bash bench/gpu/run.sh --device     (carry: bench/gpu/bin)" >&2
	exit 0
fi

[ -x "$bin" ] || { echo "run.sh: $bin is missing: build it first with bash bench/gpu/run.sh (and carry bench/gpu/bin)" >&2; exit 1; }
py=$(command -v python3 || true)
[ -n "$py" ] || { echo "run.sh: no python3 to find the CUDA plugin with" >&2; exit 1; }
# The plugin and the CUDA libraries as jax installs them: jax_plugins/xla_cuda13/xla_cuda_plugin.so
# and site-packages/nvidia/*/lib. go-xla loads the plugin by its absolute path (no auto-install:
# package backend turns it off), and the plugin finds CUDA through LD_LIBRARY_PATH.
read -r plugin libs < <("$py" - <<'PY'
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
plugin = next((p for r in roots for p in glob.glob(os.path.join(r, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so"))), "")
libs = sorted({d for r in roots for d in glob.glob(os.path.join(r, "nvidia", "*", "lib"))})
print(plugin or "-", ":".join(libs) or "-")
PY
)
[ "$plugin" != - ] || { echo "run.sh: no jax_plugins/xla_cuda*/xla_cuda_plugin.so in $py's site-packages" >&2; exit 1; }
[ "$libs" = - ] || export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/{"what":"gpu","nvidia_smi":"/; s/$/"}/' || true
echo "{\"what\":\"plugin\",\"path\":\"$plugin\"}"
# Steps first (quick), then the epoch (50k random images, compilation included).
GOMLX_BACKEND="xla:$plugin" timeout 300 "$bin" -repeats 5 | sed 's/^{/{"device":"cuda",/'
GOMLX_BACKEND="xla:$plugin" timeout 240 "$bin" -models "" -epoch | sed 's/^{/{"device":"cuda",/'
