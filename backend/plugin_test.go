package backend

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// requireXLAEnv makes a missing PJRT plugin a failure instead of a skip (CI sets it).
const requireXLAEnv = "CIFARLAB_REQUIRE_XLA"

// thisMachine is the ELF machine of this processor (x86-64 where the table has none).
func thisMachine() elf.Machine {
	if m, ok := elfMachines[runtime.GOARCH]; ok {
		return m
	}
	return elf.EM_X86_64
}

// elfImage returns a little-endian ELF64 file: its header (Phoff and Shoff are set by the caller),
// the program headers progs right after it, and then pad zero bytes.
func elfImage(t *testing.T, typ elf.Type, machine elf.Machine, shoff uint64, progs []elf.Prog64, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := elf.Header64{
		Type: uint16(typ), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Shoff: shoff, Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	if len(progs) > 0 {
		h.Phoff, h.Phnum = 64, uint16(len(progs))
	}
	if shoff != 0 {
		h.Shnum = 30
	}
	for _, v := range []any{h, progs} {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	buf.Write(make([]byte, pad))
	return buf.Bytes()
}

// TestCheckPJRTPluginRefusesBadFiles checks CheckPJRTPlugin on files that are not complete PJRT
// plugins and have no manifest: each is refused with a one-line reason naming the file.
func TestCheckPJRTPluginRefusesBadFiles(t *testing.T) {
	dyn := func(progs ...elf.Prog64) []byte { return elfImage(t, elf.ET_DYN, thisMachine(), 0, progs, 4096) }
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"text", []byte("not really a plugin\n"), `not an ELF shared object (20 bytes starting with "not real")`},
		{"empty", nil, "not an ELF shared object (0 bytes"},
		{"header cut", elfImage(t, elf.ET_DYN, thisMachine(), 0, nil, 0)[:40], "truncated: its ELF header end at byte 64, the file has 40 bytes"},
		{"section headers past the end", elfImage(t, elf.ET_DYN, thisMachine(), 1<<20, nil, 100), "truncated: its section headers end at byte 1050496, the file has 164 bytes"},
		{"absurd section header offset", elfImage(t, elf.ET_DYN, thisMachine(), 1<<64-16, nil, 100), "truncated: its section headers end at byte an impossible offset"},
		{"segment past the end", dyn(elf.Prog64{Type: uint32(elf.PT_LOAD), Off: 0, Filesz: 1 << 30}), "truncated: its loadable segment at offset 0 end at byte 1073741824"},
		{"executable", elfImage(t, elf.ET_EXEC, thisMachine(), 0, nil, 64), "an ELF EXEC, not a shared object"},
		{"other processor", elfImage(t, elf.ET_DYN, elf.EM_S390, 0, nil, 64), "built for EM_S390"},
		{"no GetPjrtApi", dyn(elf.Prog64{Type: uint32(elf.PT_LOAD), Filesz: 64}), "not a PJRT plugin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), pjrtPluginFile)
			if err := os.WriteFile(path, tc.content, 0o755); err != nil {
				t.Fatal(err)
			}
			err := CheckPJRTPlugin(path)
			if err == nil {
				t.Fatal("CheckPJRTPlugin accepted it")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line naming %s and containing %q", msg, path, tc.want)
			}
		})
	}
	t.Run("folder", func(t *testing.T) {
		if err := CheckPJRTPlugin(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("CheckPJRTPlugin(folder) = %v", err)
		}
	})
}

// countHashes counts the calls of hashPlugin for the rest of the test, and lets stamps be written
// at once.
func countHashes(t *testing.T) *int {
	t.Helper()
	calls := new(int)
	orig, settle := hashPlugin, pluginSettle
	hashPlugin = func(f *os.File, size int64) (string, error) {
		*calls++
		return orig(f, size)
	}
	pluginSettle = 0
	t.Cleanup(func() { hashPlugin, pluginSettle = orig, settle })
	return calls
}

// writeManifest writes, beside plugin, the manifest kernel-setup/setup.sh writes for content.
func writeManifest(t *testing.T, plugin string, content []byte) {
	t.Helper()
	sum := sha256.Sum256(content)
	manifest := fmt.Sprintf("# XLA's PJRT CPU plugin as kernel-setup/setup.sh installed it\nsize %d\nsha256 %s\n", len(content), hex.EncodeToString(sum[:]))
	if err := os.WriteFile(plugin+PJRTManifestSuffix, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckPJRTPluginManifest checks a plugin against the manifest written when it was installed:
// its size on every start, its SHA-256 once per version of the file (a stamp remembers the check),
// and again after any change, even one that keeps the size and the modification time.
func TestCheckPJRTPluginManifest(t *testing.T) {
	good := bytes.Repeat([]byte("PJRT plugin bytes "), 1000)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name       string
		installed  []byte // what the manifest describes
		manifest   string // overrides the manifest when set
		now        []byte // the file's content at the check
		want       string // "" for accepted
		wantHashes int
	}{
		{name: "intact", installed: good, now: good, wantHashes: 1},
		{name: "cut short", installed: good, now: good[:len(good)/2], want: fmt.Sprintf("is damaged: it has %d bytes, kernel-setup/setup.sh installed %d (cut short", len(good)/2, len(good))},
		{name: "grown", installed: good, now: append(bytes.Clone(good), 0), want: "not the file it installed"},
		{name: "one byte changed", installed: good, now: flipped, want: "is damaged: its SHA-256 is", wantHashes: 1},
		{name: "manifest without hash", manifest: "size 10\n", now: good, want: "cannot be checked: manifest"},
		{name: "manifest with a bad size", manifest: "size -3\nsha256 " + strings.Repeat("ab", 32), now: good, want: `line 1: size "-3" is not a byte count`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hashes := countHashes(t)
			path := filepath.Join(t.TempDir(), pjrtPluginFile)
			if err := os.WriteFile(path, tc.now, 0o755); err != nil {
				t.Fatal(err)
			}
			writeManifest(t, path, tc.installed)
			if tc.manifest != "" {
				if err := os.WriteFile(path+PJRTManifestSuffix, []byte(tc.manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckPJRTPlugin(path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckPJRTPlugin: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("CheckPJRTPlugin: %v; want one line containing %q", err, tc.want)
			case *hashes != tc.wantHashes:
				t.Errorf("%d SHA-256 computations, want %d", *hashes, tc.wantHashes)
			}
			if _, err := os.Stat(path + pjrtStampSuffix); (err == nil) != (tc.want == "" && runtime.GOOS == "linux") {
				t.Errorf("stamp present: %v, want it only for an accepted file", err == nil)
			}
		})
	}

	t.Run("stamp", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("file identities (and so stamps) are Linux's")
		}
		hashes := countHashes(t)
		path := filepath.Join(t.TempDir(), pjrtPluginFile)
		if err := os.WriteFile(path, good, 0o755); err != nil {
			t.Fatal(err)
		}
		writeManifest(t, path, good)
		for i := range 3 {
			if err := CheckPJRTPlugin(path); err != nil {
				t.Fatalf("check %d: %v", i, err)
			}
		}
		if *hashes != 1 {
			t.Fatalf("three checks of an unchanged file hashed it %d times, want once", *hashes)
		}
		// The same size and modification time, one byte changed in place: the change time moves,
		// so the stamp no longer matches and the hash catches the damage.
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(flipped[len(flipped)/2:len(flipped)/2+1], int64(len(flipped)/2)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := CheckPJRTPlugin(path); err == nil || !strings.Contains(err.Error(), "SHA-256") {
			t.Fatalf("changed plugin: %v, want a SHA-256 mismatch", err)
		}
		if *hashes != 2 {
			t.Errorf("%d SHA-256 computations after the change, want 2", *hashes)
		}
	})
}

// installedPlugin returns the real PJRT plugin that kernel-setup/setup.sh installed, skipping the
// test when there is none (failing when CIFARLAB_REQUIRE_XLA=1, as in CI).
func installedPlugin(t *testing.T) string {
	t.Helper()
	path, err := PJRTPluginPath()
	if err != nil {
		if os.Getenv(requireXLAEnv) == "1" {
			t.Fatalf("%s=1 but %v", requireXLAEnv, err)
		}
		t.Skipf("no PJRT plugin installed to damage (kernel-setup/setup.sh installs it): %v", err)
	}
	return path
}

// copyPrefix copies the first n bytes of src to a new file dst.
func copyPrefix(t *testing.T, dst, src string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(out, in, n); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTruncatedRealPluginFallsBack cuts copies of the installed PJRT plugin to 1 MB and to 99% of
// its size, as a full disk or an interrupted copy does, and starts the backend on each
// (CIFARLAB_PJRT_PLUGIN): loading such a file used to kill the process with SIGBUS inside cgo;
// now it is refused before loading, and the pure-Go backend runs with the reason in its one line,
// with or without the manifest kernel-setup/setup.sh writes beside the plugin. The intact plugin
// passes the same check.
func TestTruncatedRealPluginFallsBack(t *testing.T) {
	real := installedPlugin(t)
	if err := CheckPJRTPlugin(real); err != nil {
		t.Fatalf("the installed plugin is refused: %v", err)
	}
	info, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	for _, tc := range []struct {
		name     string
		size     int64
		manifest bool
		want     string
	}{
		{"1 MB", 1 << 20, false, "is truncated: its section headers end at byte"},
		{"99%", info.Size() * 99 / 100, false, "is truncated: its section headers end at byte"},
		{"99% with manifest", info.Size() * 99 / 100, true, fmt.Sprintf("is damaged: it has %d bytes, kernel-setup/setup.sh installed %d", info.Size()*99/100, info.Size())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), pjrtPluginFile)
			copyPrefix(t, cut, real, tc.size)
			if tc.manifest {
				// The manifest of the intact plugin; its hash is not needed to refuse the size.
				manifest := fmt.Sprintf("size %d\nsha256 %s\n", info.Size(), strings.Repeat("0", 64))
				if err := os.WriteFile(cut+PJRTManifestSuffix, []byte(manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv(EnvPJRTPlugin, cut)
			b, line, fallback, err := start("")
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			want := []string{"Backend: pure Go (", "XLA is not compiled into this program"}
			if XLACompiledIn {
				want = []string{"Backend: pure Go (", "XLA could not start", tildeHome(cut), tc.want, "kernel-setup/setup.sh reinstalls it"}
			}
			if strings.Contains(line, "\n") || !containsAll(line, want...) || fallback == "" || !strings.Contains(line, fallback) {
				t.Errorf("backend line %q (fallback %q), want one line containing %q", line, fallback, want)
			}
		})
	}
}
