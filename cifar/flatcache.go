package cifar

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cifarlab/cifarlab/internal/fileid"
	"github.com/cifarlab/cifarlab/internal/scratch"
)

// The flat cache keeps the decoded data set in one file, so that a later process (in GoNB every
// cell is a new process) gets it back without decoding: the file is mapped into memory
// copy-on-write where the platform allows (see mapFile), so reading it back takes milliseconds.
//
// File format: flatMagic, a little-endian uint64 length and a JSON flatHeader, then the training
// images, training labels, test images and test labels as raw bytes, and last the CRC-32C
// (Castagnoli) of everything before it as a little-endian uint32.
//
// Checking the CRC of the whole file (184 MB) takes tens of milliseconds, many times the
// read-back itself, so it is checked once per version of the file: after a successful check, a
// stamp file beside the cache (NAME.cifar.verified) records the file's identity (device, inode,
// size, modification and change times). A later read whose file still has that identity skips the
// check; any write to the file (or replacing it) changes its change time, which the kernel sets
// and no program can set back, so the next read checks the CRC again. A stamp is written only
// once the file's change time is safely in the past (flatSettle), so that a write in the same
// clock tick as the check cannot go unnoticed.
//
// The file's name has two parts: a hash of the canonical (symbolic links resolved) batches folder,
// shared by every version of the data of that folder, and a hash of the batch files' canonical
// paths, sizes and modification times, so that a changed file is never served from a stale cache
// and a folder reached through a symbolic link shares the cache of its target. Writing a cache
// removes the other caches of the same folder and those of folders that no longer exist.

const flatMagic = "CIFARLAB-FLAT-2\n"

// flatPrefixLen is the size of the magic and the header length.
const flatPrefixLen = len(flatMagic) + 8

// flatTrailerLen is the size of the CRC at the end of the file.
const flatTrailerLen = 4

// flatStampSuffix is appended to a cache file's name to name its stamp.
const flatStampSuffix = ".verified"

// flatSettle is how long after its last change a cache file gets a stamp: well above the
// granularity of file times (a clock tick, a few milliseconds). Tests shorten it.
var flatSettle = time.Second

// flatWriteChunk is how much of the data writeFlatCache writes between two looks at its context.
const flatWriteChunk = 8 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type flatHeader struct {
	Train      int      `json:"train"`
	Test       int      `json:"test"`
	ClassNames []string `json:"class_names"`
	Source     string   `json:"source"` // the canonical batches folder the data was decoded from
}

// flatCache names the flat cache of a layout.
type flatCache struct {
	path   string // the cache file
	source string // the canonical batches folder
	prefix string // file name prefix shared by all versions of source's cache
}

// flatCacheFor names the flat cache file of a layout in cacheDir.
func flatCacheFor(cacheDir string, l Layout) (flatCache, error) {
	source, err := canonicalPath(l.Dir)
	if err != nil {
		return flatCache{}, err
	}
	src := sha256.New()
	fmt.Fprintf(src, "%s\n%s\n%s\n", flatMagic, l.Format, source)
	ver := sha256.New()
	for _, f := range append(append([]string{}, l.TrainFiles...), l.TestFile, l.MetaFile) {
		path, err := canonicalPath(f)
		if err != nil {
			return flatCache{}, err
		}
		info, err := os.Stat(path)
		if err != nil {
			return flatCache{}, fmt.Errorf("cifar: %w", err)
		}
		fmt.Fprintf(ver, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
	}
	prefix := hex.EncodeToString(src.Sum(nil))[:16] + "-"
	name := prefix + hex.EncodeToString(ver.Sum(nil))[:16] + ".cifar"
	return flatCache{path: filepath.Join(cacheDir, "flat", name), source: source, prefix: prefix}, nil
}

// canonicalPath returns the absolute path of path with every symbolic link resolved.
func canonicalPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	return real, nil
}

// writeFlatCache writes ds to c.path atomically: a locked temporary file in the same folder
// (see scratch.CreateTemp), renamed into place once complete, so a reader never sees a
// half-written cache. It stops, removing the temporary, when ctx is cancelled.
func writeFlatCache(ctx context.Context, c flatCache, ds *Dataset) (err error) {
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	tmp, lock, err := scratch.CreateTemp(dir, ".tmp-*.cifar")
	if err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	defer lock.Release()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	header, err := json.Marshal(flatHeader{Train: ds.Train.Len(), Test: ds.Test.Len(), ClassNames: ds.ClassNames, Source: c.source})
	if err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	sum := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, sum), 1<<20)
	w.WriteString(flatMagic)
	binary.Write(w, binary.LittleEndian, uint64(len(header)))
	w.Write(header)
	for _, part := range [][]byte{ds.Train.Images, ds.Train.Labels, ds.Test.Images, ds.Test.Labels} {
		for len(part) > 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("cifar: flat cache: %w", context.Cause(ctx))
			}
			n := min(len(part), flatWriteChunk)
			w.Write(part[:n])
			part = part[n:]
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cifar: flat cache %s: %w", tmp.Name(), err)
	}
	if err := binary.Write(tmp, binary.LittleEndian, sum.Sum32()); err != nil {
		return fmt.Errorf("cifar: flat cache %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cifar: flat cache %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	os.Remove(c.path + flatStampSuffix) // the stamp of a file this one replaced
	return nil
}

// readFlatCache reads back a file written by writeFlatCache, checking its CRC unless its stamp
// says that this very file was checked already. A missing file returns an error satisfying
// errors.Is(err, fs.ErrNotExist); a damaged or malformed one returns an error saying what is wrong.
func readFlatCache(path string) (*Dataset, error) {
	data, info, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) (*Dataset, error) {
		return nil, fmt.Errorf("cifar: flat cache %s: "+format, append([]any{path}, args...)...)
	}
	h, body, err := parseFlatHeader(data)
	if err != nil {
		return bad("%w", err)
	}
	want := (h.Train + h.Test) * (ImageSize + 1)
	if h.Train < 0 || h.Test < 0 || len(body) != want+flatTrailerLen {
		return bad("%d bytes of data for %d+%d images, want %d and the checksum", len(body), h.Train, h.Test, want)
	}
	if err := verifyFlat(path, info, data); err != nil {
		return bad("%w", err)
	}
	take := func(n int) []byte {
		part := body[:n:n]
		body = body[n:]
		return part
	}
	ds := &Dataset{ClassNames: h.ClassNames}
	ds.Train = &Split{Name: "train", Images: take(h.Train * ImageSize), Labels: take(h.Train)}
	ds.Test = &Split{Name: "test", Images: take(h.Test * ImageSize), Labels: take(h.Test)}
	for _, s := range []*Split{ds.Train, ds.Test} {
		if err := s.Validate(); err != nil {
			return bad("%w", err)
		}
	}
	return ds, nil
}

// parseFlatHeader checks the magic and decodes the header at the start of data; it returns the
// bytes after the header.
func parseFlatHeader(data []byte) (flatHeader, []byte, error) {
	var h flatHeader
	if len(data) < flatPrefixLen || string(data[:len(flatMagic)]) != flatMagic {
		return h, nil, errors.New("not a cifarlab flat cache file of this version")
	}
	n := binary.LittleEndian.Uint64(data[len(flatMagic):flatPrefixLen])
	if n > uint64(len(data)-flatPrefixLen) {
		return h, nil, fmt.Errorf("header length %d exceeds the file", n)
	}
	if err := json.Unmarshal(data[flatPrefixLen:flatPrefixLen+int(n)], &h); err != nil {
		return h, nil, fmt.Errorf("header: %w", err)
	}
	return h, data[flatPrefixLen+int(n):], nil
}

// verifyFlat checks the CRC at the end of data, the content of the cache file path, unless the
// file's stamp matches its identity; after a successful check it writes the stamp.
func verifyFlat(path string, info fs.FileInfo, data []byte) error {
	body, trailer := data[:len(data)-flatTrailerLen], data[len(data)-flatTrailerLen:]
	want := binary.LittleEndian.Uint32(trailer)
	id, changed, ok := fileid.Of(info)
	stampPath := path + flatStampSuffix
	stamp := fmt.Sprintf("%s crc32c=%08x\n", id, want)
	if ok {
		if b, err := os.ReadFile(stampPath); err == nil && string(b) == stamp {
			return nil
		}
	}
	if got := crc32.Checksum(body, castagnoli); got != want {
		os.Remove(stampPath)
		return fmt.Errorf("checksum mismatch (CRC-32C %08x, written %08x): the file was changed or damaged after it was written", got, want)
	}
	if ok && time.Since(changed) > flatSettle {
		_ = os.WriteFile(stampPath, []byte(stamp), 0o644) // best effort: without it the next read checks again
	}
	return nil
}

// removeFlatCache removes a cache file and its stamp.
func removeFlatCache(path string) {
	os.Remove(path)
	os.Remove(path + flatStampSuffix)
}

// pruneFlatCaches removes, from the folder of keep, the cache files other than keep that hold
// older versions of the same source folder (their names start with prefix), those of an older
// format, those whose source folder no longer exists, and stamps without their cache file. It
// returns the number of cache files removed and their total size.
func pruneFlatCaches(keep, prefix string) (removed int, size int64) {
	dir := filepath.Dir(keep)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if cache, ok := strings.CutSuffix(path, flatStampSuffix); ok {
			if _, err := os.Lstat(cache); errors.Is(err, fs.ErrNotExist) {
				os.Remove(path)
			}
			continue
		}
		if !strings.HasSuffix(name, ".cifar") || strings.HasPrefix(name, ".") || path == keep || !e.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, prefix) || !flatSourceExists(path) {
			info, err := e.Info()
			removeFlatCache(path)
			removed++
			if err == nil {
				size += info.Size()
			}
		}
	}
	return removed, size
}

// flatSourceExists reports whether the cache file path is of the current format and its source
// folder still exists.
func flatSourceExists(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // leave what cannot be read to whoever can
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	h, _, err := parseFlatHeader(head[:n])
	if err != nil || h.Source == "" {
		return false
	}
	_, err = os.Stat(h.Source)
	return !errors.Is(err, fs.ErrNotExist)
}

// readWholeFile is the portable fallback of mapFile.
func readWholeFile(path string) ([]byte, fs.FileInfo, error) {
	f, info, err := openFlat(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("cifar: flat cache: %w", err)
	}
	return data, info, nil
}

// openFlat opens the flat cache file path and returns its information.
func openFlat(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cifar: flat cache: %w", err)
	}
	return f, info, nil
}
