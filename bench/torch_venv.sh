#!/usr/bin/env bash
# Sourced by the bench scripts (from the repository root): `source bench/torch_venv.sh`.
# Makes bench/.venv hold PyTorch 2.x for the CPU from PyPI, pinned with hashes in
# bench/requirements-torch.txt, and exports
#   TORCH_PY        the venv's python
#   GLIBC_TUNABLES  (unless already set) big malloc mmap/trim thresholds: without them glibc hands
#                   PyTorch's Adam fresh, page-faulting buffers on every step, much slower.
# The venv is (re)built when missing or when the requirements file changed (the stamp in the venv
# holds its sha256); a build that fails is removed, and one that was cut short is never used.
#
# PyPI's torch for Linux x86_64 is the CUDA build: its libraries are linked against the CUDA
# libraries of the nvidia-* wheels (about 1.8 GB more, which the CPU never uses), and import fails
# without them. So the requirements are installed with --no-deps, and tiny stand-ins for those
# CUDA libraries (every function returns an error, the device count is 0) are compiled into
# torch/lib with gcc, from the symbols that torch's libraries import. torch then runs on the CPU
# (MKL, OpenMP) and torch.cuda.is_available() is False.

_torch_venv_setup() {
	local root venv req want stamp
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
	venv=$root/bench/.venv
	req=$root/bench/requirements-torch.txt
	if [ ! -f "$req" ]; then
		echo "torch_venv.sh: $req is missing" >&2
		return 1
	fi
	# "stubs-1": the version of the CUDA stand-ins below; bump it when changing them.
	want="$(sha256sum "$req" | cut -d' ' -f1) stubs-1"
	stamp=$venv/.requirements-torch.sha256
	if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	# One build at a time (two bench scripts started together): lock the bench folder.
	(
		# (set -e does not work here, in a || list: every step checks its own status.)
		if command -v flock >/dev/null; then flock 9 || exit 1; fi
		if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
			exit 0 # built by another process meanwhile
		fi
		fail() {
			echo "torch_venv.sh: $*" >&2
			exit 1
		}
		is_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
		apt_updated=""
		apt_install() {
			[ -n "$apt_updated" ] || apt-get update -qq >&2 || return 1
			apt_updated=1
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
		}

		# The wheels are for CPython 3.11 (Debian 12's, or pyenv's): the first python3.11 with venv.
		py=""
		for p in python3 python3.11 /usr/bin/python3; do
			command -v "$p" >/dev/null || continue
			"$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || continue
			if "$p" -c 'import venv, ensurepip' 2>/dev/null; then
				py=$p
				break
			fi
		done
		if [ -z "$py" ]; then
			if /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && is_root; then
				echo "torch_venv.sh: installing python3-venv ..." >&2
				apt_install python3-venv || fail "apt-get install python3-venv failed"
				py=/usr/bin/python3
			else
				fail "needs CPython 3.11 with the venv module (Debian 12: apt-get install python3-venv)"
			fi
		fi
		# gcc and binutils (readelf) build the CUDA stand-ins.
		if ! command -v gcc >/dev/null || ! command -v readelf >/dev/null; then
			if is_root; then
				echo "torch_venv.sh: installing gcc ..." >&2
				apt_install gcc binutils || fail "apt-get install gcc binutils failed"
			else
				fail "needs gcc and readelf: apt-get install gcc binutils"
			fi
		fi
		# Fail fast, and clearly, without PyPI (pip would retry for minutes).
		index=${PIP_INDEX_URL:-https://pypi.org/simple}
		"$py" - "${index%/}/torch/" <<-'EOF' || fail "PyPI (${index}) is unreachable: cannot install PyTorch into bench/.venv"
			import sys, urllib.request
			try:
			    urllib.request.urlopen(sys.argv[1], timeout=30).read(1)
			except Exception as e:
			    sys.exit(f"torch_venv.sh: {sys.argv[1]}: {e}")
		EOF

		version=$(sed -n 's/^torch==\([^ ]*\).*/\1/p' "$req")
		start=$SECONDS
		# Measured for 2.15.0 on a 2-core VM: 40-60 s in all (pip 15-25 s, venv, stand-ins, check).
		echo "installing PyTorch $version (CPU) into bench/.venv (about 50 s: 560 MB download, 1.3 GB on disk) ..." >&2
		rm -rf "$venv" || fail "cannot remove the old $venv"
		trap 'rm -rf "$venv"' EXIT # removed unless complete
		trap 'exit 1' INT TERM HUP
		"$py" -m venv "$venv" || fail "$py -m venv $venv failed"
		# Python >= 3.13 writes this itself: keeps the venv out of git status and git add.
		echo '*' >"$venv/.gitignore" || fail "cannot write in $venv"
		# --no-compile: byte-compiling all of torch takes 30 s; the check below compiles what
		# the benchmarks import.
		"$venv/bin/python" -m pip install --no-deps --require-hashes --only-binary=:all: --no-compile \
			--disable-pip-version-check --no-input --retries 2 -q -r "$req" ||
			fail "pip install -r bench/requirements-torch.txt failed (PyPI reachable? see above)"
		lib=$("$venv/bin/python" -c 'import os, sysconfig; print(os.path.join(sysconfig.get_paths()["purelib"], "torch", "lib"))') || fail "no python in $venv"
		"$venv/bin/python" - "$lib" <<-'EOF' || fail "building the CUDA stand-ins in $lib failed"
			# Build stand-ins for the CUDA libraries that torch's libraries are linked against and
			# that are not installed: same sonames and symbol versions, every function returns an
			# error (non-zero, and a message to those that expect a string), no device.
			import os, re, shutil, subprocess, sys, tempfile

			lib = sys.argv[1]
			def out(*cmd):
			    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
			def dynsyms(path):
			    for line in out("readelf", "--dyn-syms", "-W", path).splitlines():
			        f = line.split()
			        if len(f) >= 8 and f[0].endswith(":"):
			            yield f[4], f[6], f[7]  # binding, section, name[@version]
			ours = sorted(f for f in os.listdir(lib) if re.search(r"\.so(\.\d+)*$", f))
			ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
			system = dict(re.findall(r"^\s*(\S+) \(libc\S*x86-64[^)]*\) => (\S+)$", out(ldconfig, "-p"), re.M))
			needs, vers, versyms, unver, defined = {}, {}, {}, {}, set()
			for so in ours:
			    p = os.path.join(lib, so)
			    needs[so] = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out("readelf", "-d", "-W", p))
			    cur = None
			    for line in out("readelf", "-V", "-W", p).splitlines():
			        m = re.search(r"File: (\S+)", line)
			        if m:
			            cur = m.group(1)
			            continue
			        m = re.search(r"Name: (\S+)\s+Flags", line)
			        if m and cur:
			            vers.setdefault(cur, set()).add(m.group(1))
			    for bind, sec, name in dynsyms(p):
			        if sec != "UND":
			            defined.add(name.split("@")[0])
			        elif "@" in name:
			            n, v = name.split("@", 1)
			            versyms.setdefault(v.split()[0], set()).add(n)
			        elif bind != "WEAK":
			            unver.setdefault(so, set()).add(name)
			# CUDA libraries only; not the driver (libcuda.so.1, loaded only for CUDA by libcaffe2_nvrtc).
			cuda = re.compile(r"^lib(cu(?!da\.so)|nv|nccl)")
			missing = sorted(n for n in {n for so in ours for n in needs[so]} - set(ours) - set(system)
			                 if cuda.match(n))
			for path in {system[n] for so in ours for n in needs[so] if n in system} | {os.path.realpath(sys.executable)}:
			    defined.update(name.split("@")[0] for _, sec, name in dynsyms(path) if sec != "UND")
			# Unversioned imports that nothing else defines (nccl, cuSPARSELt, cuFile) must resolve when
			# the library loads: each goes into every missing library of the library that imports it.
			extra = {m: set() for m in missing}
			for so in ours:
			    for m in set(needs[so]) & set(missing):
			        extra[m] |= {n for n in unver.get(so, ()) if n not in defined and not n.startswith(("Py", "_Py"))}
			special = {
			    "cudaGetDeviceCount": "int {a}(int *n) {{ if (n) *n = 0; return 100; /* cudaErrorNoDevice */ }}",
			    "cudaRuntimeGetVersion": "int {a}(int *v) {{ if (v) *v = 0; return 100; }}",
			    "cudaDriverGetVersion": "int {a}(int *v) {{ if (v) *v = 0; return 100; }}",
			}
			with tempfile.TemporaryDirectory() as tmp:
			    for soname in missing:
			        vs = sorted(vers.get(soname, ()))
			        names = sorted(set().union(extra[soname], *[versyms.get(v, set()) for v in vs]))
			        c = ['static const char msg[] = "no CUDA: stand-in library (torch installed without the nvidia-* wheels)";']
			        for i, n in enumerate(names):
			            if n in special:
			                c += [f'int s{i}(int *) __asm__("{n}");', special[n].format(a=f"s{i}")]
			            else:
			                c += [f'long s{i}(void) __asm__("{n}");', f"long s{i}(void) {{ return (long)msg; }}"]
			        src, vscript = os.path.join(tmp, "s.c"), os.path.join(tmp, "s.map")
			        with open(src, "w") as f:
			            f.write("\n".join(c) + "\n")
			        glob = lambda ns: " ".join(n + ";" for n in sorted(ns))
			        nodes = [f"{v} {{ global: {glob(versyms.get(v, ()))} }};" for v in vs[1:]]
			        first = f"{vs[0]} " if vs else ""
			        rest = versyms.get(vs[0], set()) if vs else set()
			        nodes.append(f"{first}{{ global: {glob(rest | extra[soname]) or 'torch_venv_stub_;'} local: *; }};")
			        with open(vscript, "w") as f:
			            f.write("\n".join(nodes) + "\n")
			        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-w", "-o", os.path.join(lib, soname), src,
			                        f"-Wl,-soname,{soname}", f"-Wl,--version-script={vscript}"], check=True)
			print(f"  {len(missing)} CUDA stand-ins: {' '.join(missing)}", file=sys.stderr)
		EOF
		# Check: import, no CUDA, a few Adam and NAdam steps of an MLP (this also byte-compiles
		# what the benchmarks import, hence bytecode writing on).
		env -u PYTHONDONTWRITEBYTECODE "$venv/bin/python" - <<-'EOF' || fail "the new bench/.venv fails its check (above)"
			import numpy, torch
			from torch import nn
			assert not torch.cuda.is_available()
			torch.manual_seed(0)
			model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 512), nn.ReLU(), nn.Dropout(0.3), nn.Linear(512, 10))
			x = torch.from_numpy(numpy.random.default_rng(0).random((32, 32, 32, 3), dtype=numpy.float32))
			y = torch.randint(0, 10, (32,))
			for opt in torch.optim.Adam(model.parameters()), torch.optim.NAdam(model.parameters()):
			    first = None
			    for _ in range(20):
			        opt.zero_grad(set_to_none=True)
			        loss = nn.functional.cross_entropy(model(x), y)
			        loss.backward()
			        opt.step()
			        first = first if first is not None else loss.item()
			    assert loss.item() < first, (first, loss.item())
		EOF
		echo "$want" >"$stamp" || fail "cannot write $stamp"
		trap - EXIT INT TERM HUP
		echo "PyTorch $version ready in bench/.venv ($((SECONDS - start)) s)" >&2
	) 9<"$root/bench" || return 1
}

if _torch_venv_setup; then
	unset -f _torch_venv_setup
	TORCH_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv/bin/python
	export TORCH_PY
	export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824}
else
	unset -f _torch_venv_setup
	return 1 2>/dev/null || exit 1
fi
