package keras

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
)

// Files of a saved model folder. The folder is written with atomicdir: under a temporary name,
// with the checksums and the complete marker last, then renamed into place, so an interrupted save
// never looks finished.
const (
	modelFile   = "model.json"    // savedModel
	weightsFile = "weights.bin"   // see writeWeights
	historyFile = "history.json"  // History of the last Fit, if any
	slotsFile   = "optimizer.bin" // the optimizer's slots (see OptimizerState), in the weights format
)

// checkedFiles are the files that atomicdir.SumsFile covers, when they exist.
var checkedFiles = []string{modelFile, weightsFile, historyFile, slotsFile}

// savedFormat identifies the layout of model.json; format 2 has the checksums.
const savedFormat = "cifarlab-keras-model/2"

// savedFormatV1 is the format before the checksums, still read (its weights have their own checksum).
const savedFormatV1 = "cifarlab-keras-model/1"

// savedModel is the content of model.json.
type savedModel struct {
	Format       string         `json:"format"`
	Spec         ModelSpec      `json:"spec"`
	Compile      *CompileConfig `json:"compile,omitempty"`
	LearningRate float64        `json:"learning_rate,omitempty"` // current learning rate when compiled
	// Optimizer is the optimizer's state after training (its slots in optimizer.bin); absent for
	// a model that has not trained since it was compiled, and in folders saved before it was kept.
	Optimizer *OptimizerState `json:"optimizer,omitempty"`
}

// Save writes the model to the folder dir (created or replaced): its architecture and compile
// settings (model.json), its weights (weights.bin, little-endian float32 with a SHA-256 trailer)
// the History of its last Fit (history.json) and the optimizer's state (its step count in
// model.json, its moments in optimizer.bin), with the SHA-256 of each file (SHA256SUMS), so that
// a loaded model trains on as this one would, like Keras's model.save. The folder
// appears complete or not at all: an interrupt (SIGINT, SIGTERM) during Save lets it finish before
// it ends the program, and the temporary folder of a process killed while saving is removed by the
// next save beside it.
func (m *Model) Save(dir string) error {
	saved := savedModel{Format: savedFormat, Spec: m.Spec()}
	if m.compiled != nil {
		cfg := m.compiled.cfg
		saved.Compile = &cfg
		lr, err := m.LearningRate()
		if err != nil {
			return errorf("save: %w", err)
		}
		saved.LearningRate = lr
		state, err := m.OptimizerState()
		if err != nil {
			return errorf("save: %w", err)
		}
		if state.Iterations > 0 {
			saved.Optimizer = state
		}
	}
	weights, err := m.Weights()
	if err != nil {
		return errorf("save: %w", err)
	}
	err = atomicdir.Write(dir, func(tmp string) error {
		if err := atomicdir.WriteJSON(filepath.Join(tmp, modelFile), saved); err != nil {
			return err
		}
		if err := atomicdir.WriteFile(filepath.Join(tmp, weightsFile), func(w io.Writer) error { return writeWeights(w, weights) }); err != nil {
			return err
		}
		if m.history != nil {
			if err := atomicdir.WriteJSON(filepath.Join(tmp, historyFile), m.history); err != nil {
				return err
			}
		}
		if saved.Optimizer != nil && len(saved.Optimizer.Slots) > 0 {
			if err := atomicdir.WriteFile(filepath.Join(tmp, slotsFile), func(w io.Writer) error { return writeWeights(w, saved.Optimizer.Slots) }); err != nil {
				return err
			}
		}
		return atomicdir.WriteSums(tmp, checkedFiles)
	})
	if err != nil {
		return errorf("save %s: %w", dir, err)
	}
	return nil
}

// Load reads a model written by Save (also the model/ folder of a keras/runs run): architecture, compile settings,
// learning rate, weights, the optimizer's state and History. A folder without its complete marker is refused, and so is
// one whose files do not match their checksums.
func Load(dir string) (*Model, error) {
	m, err := loadFolder(dir)
	if err != nil {
		return nil, errorf("load %s: %w", dir, err)
	}
	return m, nil
}

func loadFolder(dir string) (*Model, error) {
	if !atomicdir.IsComplete(dir) {
		return nil, fmt.Errorf("no %q marker: the folder is missing or was not completely written", atomicdir.CompleteFile)
	}
	sumsErr := atomicdir.CheckSums(dir, checkedFiles)
	if sumsErr != nil && !errors.Is(sumsErr, fs.ErrNotExist) {
		return nil, sumsErr
	}
	var saved savedModel
	if err := atomicdir.ReadJSON(filepath.Join(dir, modelFile), &saved); err != nil {
		return nil, err
	}
	switch {
	case saved.Format == savedFormatV1 && sumsErr != nil:
		// Written before the checksums: the weights carry their own.
	case saved.Format == savedFormat && sumsErr != nil:
		return nil, fmt.Errorf("%s: %w", atomicdir.SumsFile, sumsErr)
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
		if saved.LearningRate > 0 && saved.Compile.Optimizer.Schedule == nil { // a schedule's rate follows the step count
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
	if saved.Optimizer != nil && m.compiled != nil {
		if len(slotNames(m.compiled.cfg.Optimizer)) > 0 {
			slots, err := readWeightsFile(filepath.Join(dir, slotsFile))
			if err != nil {
				return nil, err
			}
			saved.Optimizer.Slots = slots
		}
		if err := m.SetOptimizerState(saved.Optimizer); err != nil {
			return nil, err
		}
	}
	var hist History
	switch err := atomicdir.ReadJSON(filepath.Join(dir, historyFile), &hist); {
	case err == nil:
		m.history = &hist
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return m, nil
}

// readWeightsFile reads a file in the weights format.
func readWeightsFile(path string) ([]LayerWeights, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	layers, err := readWeights(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return layers, nil
}
