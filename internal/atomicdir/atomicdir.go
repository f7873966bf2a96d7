// Package atomicdir writes folders that appear complete or not at all, and checks them on the way
// back: the files are written into a locked temporary sibling, synced, followed by a complete
// marker, and the folder is renamed into place. A SHA256SUMS file (in sha256sum's format) lets a
// reader refuse a folder whose files were changed or damaged after they were written.
//
// keras saves models with it and keras/runs saves memoized training runs.
package atomicdir

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/cifarlab/cifarlab/internal/scratch"
)

// CompleteFile is the marker written last into every folder: a folder without it was not
// completely written.
const CompleteFile = "complete"

// SumsFile lists the SHA-256 of the checked files of a folder, in the format of sha256sum.
const SumsFile = "SHA256SUMS"

// Write creates dir (replacing an existing one) with the files fill writes into a temporary
// sibling folder, then the complete marker, then renames the folder into place.
//
// The temporary folder is locked (scratch.MkdirTemp) while this process lives, and the leftovers of
// a process killed while writing into the same parent are removed first. An interrupt (SIGINT,
// SIGTERM) during the write is held back until the folder is in place or removed, then delivered
// (see scratch.Interruptible). Writes of the same folder at the same time both succeed; the last
// one's folder stays.
func Write(dir string, fill func(tmp string) error) error {
	return scratch.Interruptible(context.Background(), func(context.Context) error {
		return write(dir, fill)
	})
}

// StalePatterns are the patterns of the temporaries that a killed Write of a folder named base
// leaves beside it (see scratch.RemoveStale).
func StalePatterns(base string) []string {
	return []string{".tmp-" + base + "-*", ".old-" + base + "-*"}
}

func write(dir string, fill func(tmp string) error) (err error) {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	_, _ = scratch.RemoveStale(parent, StalePatterns(base)...)
	tmp, lock, err := scratch.MkdirTemp(parent, ".tmp-"+base+"-")
	if err != nil {
		return err
	}
	defer lock.Release()
	placed := false
	defer func() {
		if !placed { // an error, or a panic in fill
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(tmp, CompleteFile), func(w io.Writer) error {
		_, err := io.WriteString(w, "complete\n")
		return err
	}); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := replaceDir(parent, base, tmp, dir)
		placed = err == nil
		if err == nil || attempt == 5 || !(errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY)) {
			return err
		}
		// Another write put a folder in place after we looked: replace that one.
	}
}

// replaceDir renames tmp to dir. An existing dir is first moved into a locked temporary folder,
// moved back if the rename fails, and removed at the end.
func replaceDir(parent, base, tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	hold, lock, err := scratch.MkdirTemp(parent, ".tmp-"+base+"-")
	if err != nil {
		return err
	}
	defer lock.Release()
	defer os.RemoveAll(hold)
	previous := filepath.Join(hold, "previous")
	if err := os.Rename(dir, previous); err != nil {
		if errors.Is(err, fs.ErrNotExist) { // removed meanwhile
			return os.Rename(tmp, dir)
		}
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(previous, dir)
		return err
	}
	return nil
}

// IsComplete reports whether dir holds a completely written folder.
func IsComplete(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, CompleteFile))
	return err == nil && info.Mode().IsRegular()
}

// WriteFile creates path, lets write fill it (buffered), and syncs it to disk.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

// WriteJSON writes v as indented JSON to path (see WriteFile).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// ReadJSON reads the JSON file path into v; a decoding error names the file.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// WriteSums writes SumsFile into dir for those of the named files that are there.
func WriteSums(dir string, names []string) error {
	var b strings.Builder
	for _, name := range names {
		sum, err := fileSHA256(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, name)
	}
	return WriteFile(filepath.Join(dir, SumsFile), func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// CheckSums verifies the named files of dir against its SumsFile: each named file that is there
// must be listed, and each listed file must be there with that SHA-256. A missing SumsFile is an
// error satisfying errors.Is(err, fs.ErrNotExist).
func CheckSums(dir string, names []string) error {
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return err
	}
	listed := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 2*sha256.Size || !slices.Contains(names, name) {
			return fmt.Errorf("%s: line %d is malformed: %q", SumsFile, i+1, line)
		}
		listed[name] = sum
	}
	for _, name := range names {
		want, ok := listed[name]
		got, err := fileSHA256(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist) && !ok:
			continue
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("%s is not listed in %s", name, SumsFile)
		case got != want:
			return fmt.Errorf("%s: checksum mismatch (SHA-256 %s, %s says %s): the file was changed or damaged after it was saved", name, got, SumsFile, want)
		}
	}
	return nil
}

// fileSHA256 returns the hex SHA-256 of a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
