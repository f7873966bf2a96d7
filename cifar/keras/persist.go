package keras

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Files of a saved model folder. The complete marker is written last, and the folder is written
// under a temporary name and renamed into place, so an interrupted save never looks finished.
const (
	modelFile    = "model.json"   // savedModel
	weightsFile  = "weights.bin"  // see writeWeights
	historyFile  = "history.json" // History of the last Fit, if any
	logFile      = "log.txt"      // printed epoch lines of a memoized run
	completeFile = "complete"     // marker: the folder is fully written
)

// savedFormat identifies the layout of model.json.
const savedFormat = "cifarlab-keras-model/1"

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
// and the History of its last Fit (history.json). The optimizer's moments are not saved, like
// Keras's save_weights. The folder appears complete or not at all.
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
			return writeFileSync(filepath.Join(tmp, logFile), func(w io.Writer) error {
				_, err := io.WriteString(w, transcript)
				return err
			})
		}
		return nil
	})
}

// Load reads a model written by Save (or a memoized run's folder): architecture, compile settings,
// learning rate, weights and History. A folder without its complete marker is refused.
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
	var saved savedModel
	if err := readJSON(filepath.Join(dir, modelFile), &saved); err != nil {
		return nil, err
	}
	if saved.Format != savedFormat {
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
func writeAtomically(dir string, fill func(tmp string) error) (err error) {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+base+"-")
	if err != nil {
		return err
	}
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
	if _, statErr := os.Stat(dir); statErr == nil {
		old := filepath.Join(parent, ".old-"+base+"-"+randomSuffix())
		if err := os.Rename(dir, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			_ = os.Rename(old, dir)
			return err
		}
		return os.RemoveAll(old)
	}
	return os.Rename(tmp, dir)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
