package backend

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/internal/fileid"
)

// A PJRT plugin that is cut short (a full disk, an interrupted copy) still loads: the dynamic
// loader maps its segments past the end of the file, and the first page touched there kills the
// process with SIGBUS inside cgo, with no word about the plugin. CheckPJRTPlugin refuses such a
// file before go-xla loads it, so that the backend falls back to pure Go and says why.
//
// kernel-setup/setup.sh writes, beside the plugin it installs, a manifest (PLUGIN.manifest) with
// the plugin's size and SHA-256. A plugin with a manifest must have that size (checked on every
// start: a stat) and that SHA-256. Hashing the ~200 MB plugin takes a noticeable part of a second,
// and every GoNB cell is a new process, so the hash is checked once per version of the file: after
// a successful check, a stamp beside the plugin (PLUGIN.verified) records the file's identity
// (device, inode, size, modification and change times: any write or replacement changes the change
// time, which no program can set back) and the expected hash. A start whose file still has that
// identity skips the hash; the stamp is written only once the change time is safely in the past
// (pluginSettle), so that a write in the same clock tick as the check cannot go unnoticed. This is
// the scheme of package cifar's flat cache.
//
// A plugin without a manifest (one that CIFARLAB_PJRT_PLUGIN names, or one installed before the
// manifest existed) is checked as an ELF file: a shared object for this processor, its program
// headers, section headers, loadable segments and sections all inside the file, exporting
// GetPjrtApi. A truncated plugin fails the first of these that lies past its end: the section
// headers, which linkers put at the very end.

// PJRTManifestSuffix is appended to the plugin's path to name the manifest that
// kernel-setup/setup.sh writes when it installs the plugin: lines "size BYTES" and
// "sha256 HEX" ('#' starts a comment line).
const PJRTManifestSuffix = ".manifest"

// pjrtStampSuffix is appended to the plugin's path to name the stamp of its last successful
// SHA-256 check.
const pjrtStampSuffix = ".verified"

// pjrtEntryPoint is the symbol every PJRT plugin exports.
const pjrtEntryPoint = "GetPjrtApi"

// pluginSettle is how long after its last change a plugin gets a stamp: well above the granularity
// of file times. Tests shorten it.
var pluginSettle = time.Second

// hashPlugin returns the lowercase hex SHA-256 of the size bytes of f; tests count its calls.
var hashPlugin = func(f *os.File, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pluginManifest is what kernel-setup/setup.sh recorded of the plugin it installed.
type pluginManifest struct {
	size   int64
	sha256 string // lowercase hex
}

// reinstallHint tells the user how to get a good plugin back.
const reinstallHint = "kernel-setup/setup.sh reinstalls it"

// CheckPJRTPlugin checks that path is a complete PJRT plugin that can be loaded without risk:
// against the manifest that kernel-setup/setup.sh wrote beside it (its size, and its SHA-256 once
// per version of the file), or, without a manifest, as an ELF shared object for this processor
// whose headers, segments and sections all lie inside the file and that exports GetPjrtApi. The
// error says, on one line, why the file is refused and how to get a good one.
func CheckPJRTPlugin(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("XLA's PJRT CPU plugin: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("XLA's PJRT CPU plugin: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("XLA's PJRT CPU plugin %s is not a regular file (%s)", path, info.Mode().Type())
	}
	m, ok, err := readPluginManifest(path + PJRTManifestSuffix)
	if err != nil {
		return fmt.Errorf("XLA's PJRT CPU plugin %s cannot be checked: %w; %s", path, err, reinstallHint)
	}
	if ok {
		return checkAgainstManifest(path, f, info, m)
	}
	if err := checkELF(f, info.Size()); err != nil {
		return fmt.Errorf("XLA's PJRT CPU plugin %s %w", path, err)
	}
	return nil
}

// readPluginManifest reads the manifest file at path; ok is false when there is none.
func readPluginManifest(path string) (m pluginManifest, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("reading its manifest: %w", err)
	}
	m.size = -1
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, _ := strings.Cut(text, " ")
		value = strings.TrimSpace(value)
		switch key {
		case "size":
			if m.size, err = strconv.ParseInt(value, 10, 64); err != nil || m.size < 0 {
				return m, false, fmt.Errorf("manifest %s, line %d: size %q is not a byte count", path, line, value)
			}
		case "sha256":
			if sum, err := hex.DecodeString(value); err != nil || len(sum) != sha256.Size {
				return m, false, fmt.Errorf("manifest %s, line %d: sha256 %q is not 64 hex digits", path, line, value)
			}
			m.sha256 = strings.ToLower(value)
		}
	}
	if m.size < 0 || m.sha256 == "" {
		return m, false, fmt.Errorf("manifest %s lacks the plugin's size or sha256 (expected lines \"size BYTES\" and \"sha256 HEX\")", path)
	}
	return m, true, nil
}

// checkAgainstManifest checks the open plugin f (path, described by info) against m: its size
// always, its SHA-256 unless its stamp says this very file passed already.
func checkAgainstManifest(path string, f *os.File, info fs.FileInfo, m pluginManifest) error {
	if info.Size() != m.size {
		what := "cut short: a full disk or an interrupted copy?"
		if info.Size() > m.size {
			what = "not the file it installed"
		}
		return fmt.Errorf("XLA's PJRT CPU plugin %s is damaged: it has %d bytes, kernel-setup/setup.sh installed %d (%s); %s",
			path, info.Size(), m.size, what, reinstallHint)
	}
	id, changed, ok := fileid.Of(info)
	stampPath := path + pjrtStampSuffix
	stamp := fmt.Sprintf("%s sha256=%s\n", id, m.sha256)
	if ok {
		if b, err := os.ReadFile(stampPath); err == nil && string(b) == stamp {
			return nil
		}
	}
	sum, err := hashPlugin(f, info.Size())
	if err != nil {
		return fmt.Errorf("XLA's PJRT CPU plugin %s cannot be read: %w", path, err)
	}
	if sum != m.sha256 {
		os.Remove(stampPath)
		return fmt.Errorf("XLA's PJRT CPU plugin %s is damaged: its SHA-256 is %s, kernel-setup/setup.sh installed %s; %s",
			path, sum, m.sha256, reinstallHint)
	}
	if ok && time.Since(changed) > pluginSettle {
		_ = os.WriteFile(stampPath, []byte(stamp), 0o644) // best effort: without it the next start hashes again
	}
	return nil
}

// elfMachines is the ELF machine of each processor a PJRT plugin is built for.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkELF checks that f, of size bytes, is a complete ELF shared object for this processor that
// exports GetPjrtApi. Its error completes the sentence "XLA's PJRT CPU plugin PATH ...".
func checkELF(f *os.File, size int64) error {
	var ident [elf.EI_NIDENT]byte
	if n, _ := f.ReadAt(ident[:], 0); n < len(ident) || string(ident[:4]) != elf.ELFMAG {
		return fmt.Errorf("is not an ELF shared object (%d bytes starting with %q)", size, ident[:min(n, 8)])
	}
	var order binary.ByteOrder
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return fmt.Errorf("is not a valid ELF file (byte order %d)", ident[elf.EI_DATA])
	}
	var phoff, shoff uint64
	var phentsize, phnum, shentsize, shnum uint16
	r := io.NewSectionReader(f, 0, size)
	switch elf.Class(ident[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		var h elf.Header64
		if err := binary.Read(r, order, &h); err != nil {
			return truncated("its ELF header", uint64(binary.Size(h)), size)
		}
		phoff, phentsize, phnum, shoff, shentsize, shnum = h.Phoff, h.Phentsize, h.Phnum, h.Shoff, h.Shentsize, h.Shnum
	case elf.ELFCLASS32:
		var h elf.Header32
		if err := binary.Read(r, order, &h); err != nil {
			return truncated("its ELF header", uint64(binary.Size(h)), size)
		}
		phoff, phentsize, phnum, shoff, shentsize, shnum = uint64(h.Phoff), h.Phentsize, h.Phnum, uint64(h.Shoff), h.Shentsize, h.Shnum
	default:
		return fmt.Errorf("is not a valid ELF file (class %d)", ident[elf.EI_CLASS])
	}
	if end := extent(phoff, uint64(phentsize)*uint64(phnum)); end > uint64(size) {
		return truncated("its program headers", end, size)
	}
	if end := extent(shoff, uint64(shentsize)*uint64(shnum)); end > uint64(size) {
		return truncated("its section headers", end, size)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("is not a valid ELF file: %w", err)
	}
	if ef.Type != elf.ET_DYN {
		return fmt.Errorf("is an ELF %s, not a shared object", strings.TrimPrefix(ef.Type.String(), "ET_"))
	}
	if want, ok := elfMachines[runtime.GOARCH]; ok && ef.Machine != want {
		return fmt.Errorf("is built for %s, and this program runs on %s (%s)", ef.Machine, runtime.GOARCH, want)
	}
	for _, p := range ef.Progs {
		if end := extent(p.Off, p.Filesz); p.Type == elf.PT_LOAD && end > uint64(size) {
			return truncated(fmt.Sprintf("its loadable segment at offset %d", p.Off), end, size)
		}
	}
	for _, s := range ef.Sections {
		if end := extent(s.Offset, s.FileSize); s.Type != elf.SHT_NOBITS && end > uint64(size) {
			return truncated(fmt.Sprintf("its section %s", s.Name), end, size)
		}
	}
	syms, err := ef.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("has no table of exported symbols (%w): not a PJRT plugin", err)
	}
	for _, s := range syms {
		if s.Name == pjrtEntryPoint && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			return nil
		}
	}
	return fmt.Errorf("does not export %s: not a PJRT plugin", pjrtEntryPoint)
}

// extent returns off+n, or the largest uint64 when that overflows.
func extent(off, n uint64) uint64 {
	if off > math.MaxUint64-n {
		return math.MaxUint64
	}
	return off + n
}

// truncated is the error for a file of size bytes whose part what ends at byte end.
func truncated(what string, end uint64, size int64) error {
	at := strconv.FormatUint(end, 10)
	if end == math.MaxUint64 {
		at = "an impossible offset"
	}
	return fmt.Errorf("is truncated: %s end at byte %s, the file has %d bytes (cut short by a full disk or an interrupted copy?); %s",
		what, at, size, reinstallHint)
}
