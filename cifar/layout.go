package cifar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Format is one of the two on-disk versions of CIFAR-10.
type Format int

const (
	// Python is the python version: pickled batches in cifar-10-batches-py.
	Python Format = iota + 1
	// Binary is the binary version: 3073-byte records in cifar-10-batches-bin.
	Binary
)

// String returns "python" or "binary".
func (f Format) String() string {
	switch f {
	case Python:
		return "python"
	case Binary:
		return "binary"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Folder names of the batches inside the official archives.
const (
	PythonFolder = "cifar-10-batches-py"
	BinaryFolder = "cifar-10-batches-bin"
)

// files lists the batch files of a format: five training batches, the test batch, the metadata.
func (f Format) files() (train []string, test, meta string) {
	ext := ""
	meta = "batches.meta"
	if f == Binary {
		ext, meta = ".bin", "batches.meta.txt"
	}
	for i := 1; i <= 5; i++ {
		train = append(train, fmt.Sprintf("data_batch_%d%s", i, ext))
	}
	return train, "test_batch" + ext, meta
}

// Layout is where and how a copy of CIFAR-10 was found on disk.
type Layout struct {
	Format     Format
	Dir        string   // the folder holding the batch files
	Kind       string   // how Dir relates to the folder that was given, in words
	TrainFiles []string // paths of data_batch_1..5
	TestFile   string   // path of test_batch
	MetaFile   string   // path of batches.meta (python) or batches.meta.txt (binary)
}

// String describes the layout in one line, for example
// "python batches in /data/cifar-10-batches-py (the folder holding cifar-10-batches-py)".
func (l Layout) String() string {
	return fmt.Sprintf("%s batches in %s (%s)", l.Format, l.Dir, l.Kind)
}

// ErrNotFound is returned (wrapped, with the expected layouts) when a folder holds no copy of
// CIFAR-10. Test for it with errors.Is.
var ErrNotFound = errors.New("no CIFAR-10 data found")

// IncompleteError is the error of FindLayout for a folder that holds some but not all batch files
// of a format. It matches ErrNotFound (errors.Is).
type IncompleteError struct {
	Dir     string   // the batches folder
	Format  Format   // the format of the files that are there
	Missing []string // names of the missing files
	Given   string   // the folder given to FindLayout
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("cifar: %s holds CIFAR-10 %s batches but %s missing: %v\n%s",
		e.Dir, e.Format, strings.Join(e.Missing, ", ")+plural(len(e.Missing), " is", " are"), ErrNotFound, expectedLayouts(e.Given))
}

// Unwrap returns ErrNotFound.
func (e *IncompleteError) Unwrap() error { return ErrNotFound }

// FindLayout looks for CIFAR-10 in dir. It accepts the batches folder itself
// (cifar-10-batches-py or cifar-10-batches-bin), or the folder that holds it, which is also the
// root of an extracted official archive. The python version wins when both are present.
// A folder where some but not all batch files are present is an *IncompleteError naming the
// missing ones. A folder or file that exists but cannot be looked at (no permission) is an error
// saying so, which does not match ErrNotFound.
func FindLayout(dir string) (Layout, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Layout{}, fmt.Errorf("cifar: data folder %s does not exist: %w\n%s", dir, ErrNotFound, expectedLayouts(dir))
	case err != nil:
		return Layout{}, fmt.Errorf("cifar: cannot read the data folder: %w", err)
	case !info.IsDir():
		return Layout{}, fmt.Errorf("cifar: data folder %s is not a folder: %w\n%s", dir, ErrNotFound, expectedLayouts(dir))
	}
	type candidate struct {
		format Format
		dir    string
		kind   string
	}
	candidates := []candidate{
		{Python, dir, "the batches folder itself"},
		{Python, filepath.Join(dir, PythonFolder), "the folder holding " + PythonFolder},
		{Binary, dir, "the batches folder itself"},
		{Binary, filepath.Join(dir, BinaryFolder), "the folder holding " + BinaryFolder},
	}
	for _, c := range candidates {
		train, test, meta := c.format.files()
		l := Layout{Format: c.format, Dir: c.dir, Kind: c.kind, TestFile: filepath.Join(c.dir, test), MetaFile: filepath.Join(c.dir, meta)}
		var missing []string
		for _, name := range train {
			l.TrainFiles = append(l.TrainFiles, filepath.Join(c.dir, name))
		}
		all := append(append([]string{}, l.TrainFiles...), l.TestFile, l.MetaFile)
		for _, path := range all {
			info, err := os.Stat(path)
			switch {
			case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
				missing = append(missing, filepath.Base(path))
			case err != nil:
				return Layout{}, fmt.Errorf("cifar: cannot read the data folder %s (check its permissions): %w", c.dir, err)
			case !info.Mode().IsRegular():
				missing = append(missing, filepath.Base(path))
			}
		}
		switch {
		case len(missing) == 0:
			return l, nil
		case len(missing) < len(all):
			return Layout{}, &IncompleteError{Dir: c.dir, Format: c.format, Missing: missing, Given: dir}
		}
	}
	return Layout{}, fmt.Errorf("cifar: %w in %s\n%s", ErrNotFound, dir, expectedLayouts(dir))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// expectedLayouts explains which files are expected and how to get them.
func expectedLayouts(dir string) string {
	return fmt.Sprintf(`Expected one of these layouts:
  %[1]s/%[2]s/{data_batch_1 .. data_batch_5, test_batch, batches.meta}   (python version: the extracted cifar-10-python.tar.gz)
  %[1]s/{data_batch_1 .. data_batch_5, test_batch, batches.meta}   (the %[2]s folder itself)
  %[1]s/%[3]s/{data_batch_1.bin .. data_batch_5.bin, test_batch.bin, batches.meta.txt}   (binary version)
To get the data: download %[4]s and extract it into %[1]s,
or set CIFAR10_DIR to a folder that holds it, or leave both the folder argument and CIFAR10_DIR empty
to have cifar.Load download it (%[5]d MB) into the per-user cache.`,
		dir, PythonFolder, BinaryFolder, OfficialPython.URL, OfficialPython.Size/1_000_000)
}
