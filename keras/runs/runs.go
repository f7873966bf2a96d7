// Package runs memoizes keras training runs on disk, so that a notebook cell that runs a finished
// training again loads it in a second instead of training for minutes.
//
// [Fit] wraps keras.Model.Fit. It keys the run on its content: a SHA-256 of the model's
// architecture, its current weights, learning rate and optimizer step count (which also cover its
// seed and any earlier training), the compile and fit settings (callbacks by type and exported
// fields) and fingerprints of the data. A finished run with that key in the runs folder is loaded
// into the model; otherwise the model trains and the run is saved. [Options].Retrain trains even
// when a run exists, and replaces it. Nothing else is read: the package knows no environment
// variable and no application setting.
//
// A run is a folder named after its key: the model as keras.Model.Save writes it (model/), the
// record of the training's output (log.txt, printed again when the run is loaded) and run.json,
// with checksums, written atomically. While a Fit trains, it holds a lock on its key, so that an
// identical Fit in this or another process waits for it and then loads its run.
package runs

import (
	"bytes"
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
	"time"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
	"github.com/cifarlab/cifarlab/internal/homedir"
	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/keras"
)

// Options says where runs are kept and whether to train again.
type Options struct {
	// Dir is the runs folder (created if needed); required.
	Dir string
	// Retrain trains even when a finished run exists, and replaces it.
	Retrain bool
	// Quiet loads a finished run without printing anything. Training still prints as the
	// FitConfig's Verbose says, and waiting for another Fit of the same run is always said.
	Quiet bool
	// LoadOnly never trains: when no finished run of the key exists, Fit returns an error that
	// wraps ErrNotTrained (an unreadable one too). Retrain is ignored.
	LoadOnly bool
	// FallbackDir, when set, is where a trained run goes when it cannot be saved in Dir (a full
	// disk, a folder that became read-only): the training is not thrown away, Fit says where it
	// went, and later Fits of the same key find it there. It should be on another file system
	// (the system's temporary folder, for example). Since such a folder is usually in a place
	// every user can write, runs are loaded from and saved to it only while it is this user's
	// alone (a real folder, not a symbolic link, owned by this user, mode 0700; a save creates it
	// so); otherwise FitOrLoad says why and ignores it.
	FallbackDir string
}

// ErrNotTrained is returned (wrapped) by a LoadOnly Fit when the run has not been trained.
var ErrNotTrained = errors.New("no finished run with these settings")

// Run is the outcome of a memoized Fit.
type Run struct {
	Key     string         // 16 hex digits
	Dir     string         // the run's folder
	History *keras.History // as Fit returned it, or as it was saved
	Loaded  bool           // loaded from Dir rather than trained
}

// keyVersion changes whenever training semantics change, invalidating older runs.
const keyVersion = "cifarlab-keras-run/4" // 4: the fit settings by construction (FitConfig's JSON), observers left out, the optimizer's state kept

// Files of a run folder.
const (
	modelDir = "model"    // keras.Model.Save
	logFile  = "log.txt"  // FitConfig.Log of the training
	runFile  = "run.json" // runInfo
)

// runInfo is the content of run.json.
type runInfo struct {
	Version string    `json:"version"`
	Key     string    `json:"key"`
	Trained time.Time `json:"trained"`
}

// staleInRuns are the patterns of the temporaries and lock files that a Fit leaves in the runs
// folder when its process is killed (see scratch.RemoveStale): keys are 16 hex digits.
var staleInRuns = append(atomicdir.StalePatterns("????????????????"), ".lock-????????????????")

// FitOrLoad trains m like m.Fit(ctx, x, y, cfg), or loads the finished run with the same key from
// opts.Dir into m (weights, learning rate, the optimizer's state and History), so that a later
// m.Fit continues exactly as it would have after the training. A trained run is saved before
// FitOrLoad returns; a training that fails or is cancelled saves nothing and returns what m.Fit
// returned.
//
// When it loads a run and cfg.Verbose > 0, it prints "loaded run KEY from DIR" and the run's epoch
// lines as they were printed when it trained (unless opts.Quiet).
func FitOrLoad(ctx context.Context, m *keras.Model, x keras.Array, y keras.Labels, cfg keras.FitConfig, opts Options) (*Run, error) {
	if opts.Dir == "" {
		return nil, errors.New("runs: Options.Dir is empty")
	}
	key, err := Key(m, x, y, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkDir(opts.Dir); err != nil {
		return nil, err
	}
	if !opts.LoadOnly {
		if err := checkSpace(opts.Dir, m); err != nil {
			return nil, err
		}
	}
	out := cfg.Output
	if out == nil {
		out = m.Output()
	}
	if opts.Quiet || cfg.Verbose == 0 {
		out = io.Discard
	}
	waitOut := cfg.Output // waiting is said even when quiet: a cell must not wait in silence
	if waitOut == nil {
		waitOut = m.Output()
	}
	r := &Run{Key: key, Dir: filepath.Join(opts.Dir, key)}
	lock, err := scratch.LockPath(ctx, filepath.Join(opts.Dir, ".lock-"+key), func(elapsed time.Duration) {
		if elapsed == 0 {
			fmt.Fprintf(waitOut, "runs: run %s is being trained by another Fit right now; waiting for it to finish\n", key)
			return
		}
		fmt.Fprintf(waitOut, "runs: still waiting for run %s to finish training elsewhere (%s so far)\n", key, elapsed.Round(time.Second))
	})
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	defer lock.Release()

	if fallback := r.fallback(opts); !atomicdir.IsComplete(r.Dir) && fallback != nil &&
		usableFallback(opts.FallbackDir, func(line string) { fmt.Fprintln(waitOut, line) }) && atomicdir.IsComplete(fallback.Dir) {
		r = fallback // saved there when Dir was full
	}
	if opts.LoadOnly {
		if !atomicdir.IsComplete(r.Dir) {
			return nil, fmt.Errorf("runs: run %s: %w", key, ErrNotTrained)
		}
		if err := r.load(m, out); err != nil {
			return nil, fmt.Errorf("runs: run %s in %s is unreadable (%v): %w", key, r.Dir, err, ErrNotTrained)
		}
		return r, nil
	}
	if !opts.Retrain && atomicdir.IsComplete(r.Dir) {
		err := r.load(m, out)
		if err == nil {
			return r, nil
		}
		fmt.Fprintf(out, "runs: run %s in %s is unreadable (%v); training again\n", key, r.Dir, err)
	}

	var log bytes.Buffer
	if cfg.Log != nil {
		cfg.Log = io.MultiWriter(cfg.Log, &log)
	} else {
		cfg.Log = &log
	}
	hist, err := m.Fit(ctx, x, y, cfg)
	r.History = hist
	if err != nil {
		return r, err
	}
	if err := r.save(m, log.Bytes()); err != nil {
		fallback := r.fallback(opts)
		if fallback == nil || fallback.Dir == r.Dir {
			return r, err
		}
		fallback.History = r.History
		if ferr := makePrivateDir(opts.FallbackDir); ferr != nil {
			return r, errors.Join(err, fmt.Errorf("runs: not saving to the fallback folder either: %w", ferr))
		}
		if ferr := checkDir(opts.FallbackDir); ferr != nil {
			return r, errors.Join(err, ferr)
		}
		if ferr := fallback.save(m, log.Bytes()); ferr != nil {
			return r, errors.Join(err, ferr)
		}
		fmt.Fprintf(waitOut, "runs: %v\nruns: the trained run was saved to %s instead; later fits find it there (free space in %s, then train again to keep it there)\n",
			err, fallback.Dir, opts.Dir)
		return fallback, nil
	}
	return r, nil
}

// fallback is the run's place in opts.FallbackDir, or nil without one.
func (r *Run) fallback(opts Options) *Run {
	if opts.FallbackDir == "" {
		return nil
	}
	return &Run{Key: r.Key, Dir: filepath.Join(opts.FallbackDir, r.Key)}
}

// spaceMargin is what a run needs on disk beyond its weights and optimizer state: its History,
// log, checksums and the predictions saved beside it (10,000 × 10 float32 for CIFAR-10's test
// set), with room to spare.
const spaceMargin = 2 << 20

// NeededSpace estimates the bytes that saving a run of m takes: its weights and its optimizer's
// state (one or two float32 slots per weight for the Keras optimizers), plus a margin for the
// History, the log and the predictions.
func NeededSpace(m *keras.Model) int64 {
	return int64(m.CountParams())*4*3 + spaceMargin
}

// checkSpace fails, before any training, when the file system of dir has less free space than a
// run of m needs, saying how much is needed and where.
func checkSpace(dir string, m *keras.Model) error {
	free, err := freeSpace(dir)
	if err != nil {
		return nil // not knowable here: the save will tell
	}
	if need := NeededSpace(m); free < need {
		return fmt.Errorf("runs: the runs folder %s has %s free, but saving this run needs about %s (weights, optimizer state, predictions): free some space there or choose another runs folder, before training for nothing",
			dir, mib(free), mib(need))
	}
	return nil
}

// mib formats a size in MiB with one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// load restores the run's weights and learning rate into m and reads its History.
func (r *Run) load(m *keras.Model, out io.Writer) error {
	if err := atomicdir.CheckSums(r.Dir, []string{logFile, runFile}); err != nil {
		return err
	}
	var info runInfo
	if err := atomicdir.ReadJSON(filepath.Join(r.Dir, runFile), &info); err != nil {
		return err
	}
	if info.Key != r.Key || info.Version != keyVersion {
		return fmt.Errorf("%s says key %s, version %q", runFile, info.Key, info.Version)
	}
	saved, err := keras.Load(filepath.Join(r.Dir, modelDir))
	if err != nil {
		return err
	}
	if saved.History() == nil {
		return fmt.Errorf("%s has no History", modelDir)
	}
	weights, err := saved.Weights()
	if err != nil {
		return err
	}
	if err := m.SetWeights(weights); err != nil {
		return err
	}
	if cc, _ := m.CompileConfig(); cc.Optimizer.Schedule == nil { // a schedule's rate follows the step count
		if lr, err := saved.LearningRate(); err == nil {
			if err := m.SetLearningRate(lr); err != nil {
				return err
			}
		}
	}
	state, err := saved.OptimizerState()
	if err != nil {
		return err
	}
	if err := m.SetOptimizerState(state); err != nil {
		return err
	}
	m.SetHistory(saved.History())
	r.History, r.Loaded = saved.History(), true
	fmt.Fprintf(out, "loaded run %s from %s\n", r.Key, homedir.Abbrev(r.Dir))
	if log, err := os.ReadFile(filepath.Join(r.Dir, logFile)); err == nil {
		_, _ = out.Write(log)
	}
	return nil
}

// save writes the trained run into its folder, atomically, replacing an older run of the key
// (Retrain, or an unreadable run). The caller holds the key's lock, so no other Fit saves it now.
func (r *Run) save(m *keras.Model, log []byte) error {
	err := atomicdir.Write(r.Dir, func(tmp string) error {
		if err := m.Save(filepath.Join(tmp, modelDir)); err != nil {
			return err
		}
		if err := atomicdir.WriteFile(filepath.Join(tmp, logFile), func(w io.Writer) error {
			_, err := w.Write(log)
			return err
		}); err != nil {
			return err
		}
		info := runInfo{Version: keyVersion, Key: r.Key, Trained: time.Now().UTC()}
		if err := atomicdir.WriteJSON(filepath.Join(tmp, runFile), info); err != nil {
			return err
		}
		return atomicdir.WriteSums(tmp, []string{logFile, runFile})
	})
	if err != nil {
		return fmt.Errorf("runs: saving run %s to %s: %w", r.Key, r.Dir, err)
	}
	return nil
}

// checkDir makes sure, before any training, that the run can be saved: the runs folder exists or
// can be created, and a file can be written in it. It also removes what killed processes left
// there.
func checkDir(dir string) error {
	fail := func(err error) error {
		return fmt.Errorf("runs: the runs folder %s cannot be written, so the trained run could not be saved: %w (choose another folder)", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fail(err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	_, _ = scratch.RemoveStale(dir, staleInRuns...)
	return nil
}

// Key computes the run key of m.Fit(ctx, x, y, cfg): the first 16 hex digits of a SHA-256 of the
// model's architecture, current weights, learning rate and optimizer step count, the compile
// settings, the fit settings that change the training (not Verbose, Output or Log), the callbacks
// (type and exported fields) and fingerprints of the data. m must be compiled.
func Key(m *keras.Model, x keras.Array, y keras.Labels, cfg keras.FitConfig) (string, error) {
	compile, ok := m.CompileConfig()
	if !ok {
		return "", errors.New("runs: the model is not compiled; call Compile first")
	}
	weights, err := weightsSHA256(m)
	if err != nil {
		return "", err
	}
	lr, err := m.LearningRate()
	if err != nil {
		return "", fmt.Errorf("runs: %w", err)
	}
	iterations, err := m.Iterations()
	if err != nil {
		return "", fmt.Errorf("runs: %w", err)
	}
	// The fit settings by construction: FitConfig's JSON holds every field that changes the
	// training (keras tags the others `json:"-"`: output, observers, validation data), and the
	// callbacks come with their types.
	type callbackKey struct {
		Type   string          `json:"type"`
		Config json.RawMessage `json:"config,omitempty"`
	}
	fit := struct {
		keras.FitConfig
		Callbacks []callbackKey `json:"Callbacks"` // shadows FitConfig.Callbacks
	}{FitConfig: cfg}
	for _, cb := range cfg.Callbacks {
		config, err := json.Marshal(cb)
		if err != nil {
			return "", fmt.Errorf("runs: computing the run key: callback %T: %w", cb, err)
		}
		fit.Callbacks = append(fit.Callbacks, callbackKey{Type: fmt.Sprintf("%T", cb), Config: config})
	}
	material := struct {
		Version      string              `json:"version"`
		Spec         keras.ModelSpec     `json:"spec"`
		Weights      string              `json:"weights"`
		LearningRate float64             `json:"learning_rate"`
		Iterations   int64               `json:"iterations"`
		Compile      keras.CompileConfig `json:"compile"`
		Fit          any                 `json:"fit"`
		X            string              `json:"x"`
		Y            string              `json:"y"`
		ValX         string              `json:"val_x"`
		ValY         string              `json:"val_y"`
	}{
		Version: keyVersion, Spec: m.Spec(), Weights: hex.EncodeToString(weights), LearningRate: lr,
		Iterations: iterations, Compile: compile, Fit: fit,
		X: arrayFingerprint(x), Y: labelsFingerprint(y),
	}
	if v := cfg.ValidationData; v != nil {
		fit.ValidationSplit = 0 // ignored by Fit when ValidationData is given
		material.Fit = fit
		material.ValX, material.ValY = arrayFingerprint(v.X), labelsFingerprint(v.Y)
	}
	blob, err := json.Marshal(material)
	if err != nil {
		return "", fmt.Errorf("runs: computing the run key: %w", err)
	}
	sum := sha256.Sum256(blob)
	return hex.EncodeToString(sum[:8]), nil
}
