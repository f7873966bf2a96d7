package keras

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

// Files of a saved model folder. The checksums and the complete marker are written last, and the
// folder is written under a temporary name and renamed into place, so an interrupted save never
// looks finished.
const (
	modelFile    = "model.json"   // savedModel
	weightsFile  = "weights.bin"  // see writeWeights
	historyFile  = "history.json" // History of the last Fit, if any
	logFile      = "log.txt"      // printed epoch lines of a memoized run
	sumsFile     = "SHA256SUMS"   // SHA-256 of each file above, in the format of sha256sum
	completeFile = "complete"     // marker: the folder is fully written
)

// checkedFiles are the files that sumsFile covers, when they exist.
var checkedFiles = []string{modelFile, weightsFile, historyFile, logFile}

// savedFormat identifies the layout of model.json; format 2 has sumsFile.
const savedFormat = "cifarlab-keras-model/2"

// savedFormatV1 is the format before sumsFile, still read (its weights have their own checksum).
const savedFormatV1 = "cifarlab-keras-model/1"

// savedModel is the content of model.json.
type savedModel struct {
	Format       string         `json:"format"`
	Spec         ModelSpec      `json:"spec"`
	Compile      *CompileConfig `json:"compile,omitempty"`
	LearningRate float64        `json:"learning_rate,omitempty"` // current learning rate when compiled
	Fits         int            `json:"fits"`
	RunKey       string         `json:"run_key,omitempty"`
}

// Save writes the model to the folder dir (created or replaced): its architecture and compile
// settings (model.json), its weights (weights.bin, little-endian float32 with a SHA-256 trailer)
// and the History of its last Fit (history.json), with the SHA-256 of each file (SHA256SUMS). The
// optimizer's moments are not saved, like Keras's save_weights. The folder appears complete or not
// at all: an interrupt (SIGINT, SIGTERM) during Save lets it finish before it ends the program,
// and the temporary folder of a process killed while saving is removed by the next save beside it.
func (m *Model) Save(dir string) error {
	if err := m.writeFolder(dir, "", ""); err != nil {
		return errorf("save: %v", err)
	}
	return nil
}

// writeFolder writes the model folder atomically; runKey and transcript are set for memoized runs.
func (m *Model) writeFolder(dir, runKey, transcript string) error {
	saved := savedModel{Format: savedFormat, Spec: m.Spec(), Fits: m.fits, RunKey: runKey}
	if m.compiled != nil {
		cfg := m.compiled.cfg
		saved.Compile = &cfg
		lr, err := m.LearningRate()
		if err != nil {
			return err
		}
		saved.LearningRate = lr
	}
	weights, err := m.Weights()
	if err != nil {
		return err
	}
	return writeAtomically(dir, func(tmp string) error {
		if err := writeJSON(filepath.Join(tmp, modelFile), saved); err != nil {
			return err
		}
		if err := writeFileSync(filepath.Join(tmp, weightsFile), func(w io.Writer) error { return writeWeights(w, weights) }); err != nil {
			return err
		}
		if m.history != nil {
			if err := writeJSON(filepath.Join(tmp, historyFile), m.history); err != nil {
				return err
			}
		}
		if transcript != "" {
			if err := writeFileSync(filepath.Join(tmp, logFile), func(w io.Writer) error {
				_, err := io.WriteString(w, transcript)
				return err
			}); err != nil {
				return err
			}
		}
		return writeSums(tmp)
	})
}

// writeSums writes sumsFile for the checked files present in dir.
func writeSums(dir string) error {
	var b strings.Builder
	for _, name := range checkedFiles {
		sum, err := fileSHA256(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, name)
	}
	return writeFileSync(filepath.Join(dir, sumsFile), func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// checkSums verifies the files of dir against its sumsFile: each checked file that is there must
// be listed, and each listed file must be there with that SHA-256.
func checkSums(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, sumsFile))
	if err != nil {
		return err
	}
	listed := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 2*sha256.Size || !slices.Contains(checkedFiles, name) {
			return fmt.Errorf("%s: line %d is malformed: %q", sumsFile, i+1, line)
		}
		listed[name] = sum
	}
	for _, name := range checkedFiles {
		want, ok := listed[name]
		got, err := fileSHA256(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist) && !ok:
			continue
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("%s is not listed in %s", name, sumsFile)
		case got != want:
			return fmt.Errorf("%s: checksum mismatch (SHA-256 %s, %s says %s): the file was changed or damaged after it was saved", name, got, sumsFile, want)
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

// Load reads a model written by Save (or a memoized run's folder): architecture, compile settings,
// learning rate, weights and History. A folder without its complete marker is refused, and so is
// one whose files do not match their checksums.
func Load(dir string) (*Model, error) {
	m, err := loadFolder(dir)
	if err != nil {
		return nil, errorf("load %s: %v", dir, err)
	}
	return m, nil
}

func loadFolder(dir string) (*Model, error) {
	if !isComplete(dir) {
		return nil, fmt.Errorf("no %q marker: the folder is missing or was not completely written", completeFile)
	}
	sumsErr := checkSums(dir)
	if sumsErr != nil && !errors.Is(sumsErr, fs.ErrNotExist) {
		return nil, sumsErr
	}
	var saved savedModel
	if err := readJSON(filepath.Join(dir, modelFile), &saved); err != nil {
		return nil, err
	}
	switch {
	case saved.Format == savedFormatV1 && sumsErr != nil:
		// Written before the checksums: the weights carry their own.
	case saved.Format == savedFormat && sumsErr != nil:
		return nil, fmt.Errorf("%s: %w", sumsFile, sumsErr)
	case saved.Format != savedFormat && saved.Format != savedFormatV1:
		return nil, fmt.Errorf("%s: format %q, want %q", modelFile, saved.Format, savedFormat)
	}
	m, err := NewModel(saved.Spec)
	if err != nil {
		return nil, err
	}
	if saved.Compile != nil {
		if err := m.Compile(*saved.Compile); err != nil {
			return nil, err
		}
		if saved.LearningRate > 0 {
			if err := m.SetLearningRate(saved.LearningRate); err != nil {
				return nil, err
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, weightsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	weights, err := readWeights(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weightsFile, err)
	}
	if err := m.SetWeights(weights); err != nil {
		return nil, err
	}
	var hist History
	switch err := readJSON(filepath.Join(dir, historyFile), &hist); {
	case err == nil:
		m.history = &hist
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	m.fits = saved.Fits
	return m, nil
}

// isComplete reports whether dir holds a completely written folder.
func isComplete(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, completeFile))
	return err == nil && info.Mode().IsRegular()
}

// writeAtomically creates dir (replacing an existing one) with the files fill writes into a
// temporary sibling folder, then the complete marker, then renames the folder into place.
//
// The temporary folder is locked (scratch.MkdirTemp) while this process lives, and the leftovers of
// a process killed while saving into the same parent are removed first. An interrupt (SIGINT,
// SIGTERM) during the save is held back until the folder is in place or removed, then delivered
// (see scratch.Interruptible). Saves of the same folder at the same time both succeed; the last
// one's folder stays.
func writeAtomically(dir string, fill func(tmp string) error) error {
	return scratch.Interruptible(context.Background(), func(context.Context) error {
		return writeAtomicallyNow(dir, fill)
	})
}

func writeAtomicallyNow(dir string, fill func(tmp string) error) (err error) {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	_, _ = scratch.RemoveStale(parent, ".tmp-"+base+"-*", ".old-"+base+"-*")
	tmp, lock, err := scratch.MkdirTemp(parent, ".tmp-"+base+"-")
	if err != nil {
		return err
	}
	defer lock.Release()
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(tmp, completeFile), func(w io.Writer) error {
		_, err := io.WriteString(w, "complete\n")
		return err
	}); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := replaceDir(parent, base, tmp, dir)
		if err == nil || attempt == 5 || !(errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY)) {
			return err
		}
		// Another save put a folder in place after we looked: replace that one.
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

// writeFileSync creates path, lets write fill it, and syncs it to disk.
func writeFileSync(path string, write func(io.Writer) error) error {
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

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}
