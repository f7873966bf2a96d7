package cifar

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The flat cache keeps the decoded data set in one file, so that a later process (in GoNB every
// cell is a new process) gets it back without decoding: the file is mapped into memory
// copy-on-write where the platform allows (see mapFile), so reading it back takes milliseconds.
//
// File format: flatMagic, a little-endian uint64 length and a JSON flatHeader, then the training
// images, training labels, test images and test labels as raw bytes.

const flatMagic = "CIFARLAB-FLAT-1\n"

type flatHeader struct {
	Train      int      `json:"train"`
	Test       int      `json:"test"`
	ClassNames []string `json:"class_names"`
}

// flatCachePath names the flat cache file of a layout. The name hashes the batch files' paths,
// sizes and modification times, so a changed file is never served from a stale cache.
func flatCachePath(cacheDir string, l Layout) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", flatMagic, l.Format)
	for _, f := range append(append([]string{}, l.TrainFiles...), l.TestFile, l.MetaFile) {
		abs, err := filepath.Abs(f)
		if err != nil {
			return "", fmt.Errorf("cifar: %w", err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return "", fmt.Errorf("cifar: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", abs, info.Size(), info.ModTime().UnixNano())
	}
	return filepath.Join(cacheDir, "flat", hex.EncodeToString(h.Sum(nil))[:24]+".cifar"), nil
}

// writeFlatCache writes ds to path atomically: a temporary file in the same folder, renamed into
// place once complete, so a reader never sees a half-written cache.
func writeFlatCache(path string, ds *Dataset) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.cifar")
	if err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	header, err := json.Marshal(flatHeader{Train: ds.Train.Len(), Test: ds.Test.Len(), ClassNames: ds.ClassNames})
	if err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	w.WriteString(flatMagic)
	binary.Write(w, binary.LittleEndian, uint64(len(header)))
	w.Write(header)
	for _, part := range [][]byte{ds.Train.Images, ds.Train.Labels, ds.Test.Images, ds.Test.Labels} {
		w.Write(part)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cifar: flat cache %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cifar: flat cache %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cifar: flat cache: %w", err)
	}
	return nil
}

// readFlatCache reads back a file written by writeFlatCache. A missing file returns an error
// satisfying os.IsNotExist; a malformed one returns an error saying what is wrong.
func readFlatCache(path string) (*Dataset, error) {
	data, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) (*Dataset, error) {
		return nil, fmt.Errorf("cifar: flat cache %s: %s", path, fmt.Sprintf(format, args...))
	}
	prefix := len(flatMagic) + 8
	if len(data) < prefix || string(data[:len(flatMagic)]) != flatMagic {
		return bad("not a cifarlab flat cache file")
	}
	n := binary.LittleEndian.Uint64(data[len(flatMagic):prefix])
	if n > uint64(len(data)-prefix) {
		return bad("header length %d exceeds the file", n)
	}
	var h flatHeader
	if err := json.Unmarshal(data[prefix:prefix+int(n)], &h); err != nil {
		return bad("header: %v", err)
	}
	body := data[prefix+int(n):]
	if h.Train < 0 || h.Test < 0 || len(body) != (h.Train+h.Test)*(ImageSize+1) {
		return bad("%d bytes of data for %d+%d images, want %d", len(body), h.Train, h.Test, (h.Train+h.Test)*(ImageSize+1))
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
			return bad("%v", err)
		}
	}
	return ds, nil
}

// readWholeFile is the portable fallback of mapFile.
func readWholeFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cifar: flat cache: %w", err)
	}
	return data, err
}
