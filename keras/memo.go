package keras

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/internal/settings"
)

// RetrainEnv is the environment variable that forces memoized Fit calls to train again
// (1, true, yes or on; 0, false, no, off or empty leave them loading; any other value makes Fit
// fail, see settings.ParseBool).
const RetrainEnv = "CIFARLAB_RETRAIN"

// runKeyVersion changes whenever training semantics change, invalidating older memoized runs.
const runKeyVersion = "cifarlab-keras-run/2" // 2: cross-entropy from the softmax's logits, one shuffle per Fit

// memoRun is a memoized Fit: its key and folder, and the lock on the key while this Fit trains.
type memoRun struct {
	key, dir string
	lock     *scratch.Lock
}

// lockName names the lock file of a run key in the runs folder.
func lockName(key string) string { return ".lock-" + key }

// staleInRuns are the patterns of the temporaries and lock files that a memoized Fit leaves in the
// runs folder when its process is killed (see scratch.RemoveStale): keys are 16 hex digits.
var staleInRuns = []string{".tmp-????????????????-*", ".old-????????????????-*", ".lock-????????????????"}

// retrainFromEnv reports whether CIFARLAB_RETRAIN asks to train again. memoFor has checked the
// value already, refusing one that settings.ParseBool does not understand.
func retrainFromEnv() bool {
	on, _ := settings.Bool(RetrainEnv)
	return on
}

// memoFor computes the run key of a Fit: a SHA-256 (first 16 hex digits) of the model spec, its
// current weights and learning rate (which also cover the seed and any earlier training), the
// number of earlier Fit calls, the compile and fit settings (callbacks by type and exported
// fields) and CRC fingerprints of the data (see fingerprint).
func (m *Model) memoFor(data *split, cfg FitConfig) (*memoRun, error) {
	if _, err := settings.Bool(RetrainEnv); err != nil {
		return nil, errorf("fit: %w", err)
	}
	weights, err := m.Weights()
	if err != nil {
		return nil, err
	}
	wh := sha256.New() // 7 MB for lab 3: a few tens of milliseconds
	for _, l := range weights {
		_ = writeFloats(wh, l.Kernel)
		_ = writeFloats(wh, l.Bias)
	}
	lr, err := m.LearningRate()
	if err != nil {
		return nil, err
	}
	type callbackKey struct {
		Type   string          `json:"type"`
		Config json.RawMessage `json:"config,omitempty"`
	}
	var callbacks []callbackKey
	for _, cb := range cfg.Callbacks {
		k := callbackKey{Type: fmt.Sprintf("%T", cb)}
		if config, err := json.Marshal(cb); err == nil {
			k.Config = config
		}
		callbacks = append(callbacks, k)
	}
	material := struct {
		Version         string        `json:"version"`
		Spec            ModelSpec     `json:"spec"`
		Weights         string        `json:"weights"`
		LearningRate    float64       `json:"learning_rate"`
		Fits            int           `json:"fits"`
		Compile         CompileConfig `json:"compile"`
		Epochs          int           `json:"epochs"`
		BatchSize       int           `json:"batch_size"`
		ValidationSplit float64       `json:"validation_split"`
		NoShuffle       bool          `json:"no_shuffle"`
		Callbacks       []callbackKey `json:"callbacks"`
		X               string        `json:"x"`
		Y               string        `json:"y"`
		ValX            string        `json:"val_x"`
		ValY            string        `json:"val_y"`
	}{
		Version: runKeyVersion, Spec: m.spec, Weights: hex.EncodeToString(wh.Sum(nil)), LearningRate: lr,
		Fits: m.fits, Compile: m.compiled.cfg, Epochs: cfg.Epochs, BatchSize: cfg.BatchSize,
		ValidationSplit: cfg.ValidationSplit, NoShuffle: cfg.NoShuffle, Callbacks: callbacks,
		X: arrayFingerprint(data.x), Y: labelsFingerprint(data.y),
	}
	if cfg.ValidationData != nil {
		material.ValidationSplit = 0 // ignored by Fit when ValidationData is given
		material.ValX, material.ValY = arrayFingerprint(data.valX), labelsFingerprint(data.valY)
	}
	blob, err := json.Marshal(material)
	if err != nil {
		return nil, errorf("fit: computing the run key: %v", err)
	}
	sum := sha256.Sum256(blob)
	key := hex.EncodeToString(sum[:8])
	if err := checkRunsDir(cfg.RunsDir); err != nil {
		return nil, err
	}
	return &memoRun{key: key, dir: filepath.Join(cfg.RunsDir, key)}, nil
}

// checkRunsDir makes sure, before any training, that the run can be saved: the runs folder exists
// or can be created, and a file can be written in it. It also removes what killed processes left
// there.
func checkRunsDir(dir string) error {
	fail := func(err error) error {
		return errorf("fit: the runs folder %s cannot be written, so the trained run could not be saved: %w (give FitConfig.RunsDir another folder; in the labs, set CIFARLAB_RUNS_DIR)", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fail(err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fail(err)
	}
	_, _ = scratch.RemoveStale(dir, staleInRuns...)
	return nil
}

// load restores a finished run into m. It reports false (train) when there is none, when force is
// set, or when the folder cannot be read (saying so).
//
// It first takes the lock of the run key, waiting while another Fit of the same key (in this
// process or another) trains, then loads that Fit's run. When it reports false it keeps the lock,
// so that an identical Fit started meanwhile waits for this one; save releases it (or, if training
// fails, the lock is released with its file when the memoRun is garbage collected or the process
// ends).
func (r *memoRun) load(m *Model, p *printer, force bool) (hist *History, ok bool, err error) {
	lockPath := filepath.Join(filepath.Dir(r.dir), lockName(r.key))
	r.lock, err = scratch.LockPath(context.Background(), lockPath, func() {
		if p.verbose > 0 { // not in the transcript
			fmt.Fprintf(p.w, "keras: run %s is being trained by another Fit right now; waiting for it to finish\n", r.key)
		}
	})
	if err != nil {
		return nil, false, errorf("fit: %w", err)
	}
	defer func() {
		if ok || err != nil {
			r.release()
		}
	}()
	if force || !isComplete(r.dir) {
		return nil, false, nil
	}
	saved, err := loadFolder(r.dir)
	if err == nil && saved.history == nil {
		err = fmt.Errorf("no %s", historyFile)
	}
	if err != nil {
		if p.verbose > 0 { // not in the transcript: the new run's replay should not repeat it
			fmt.Fprintf(p.w, "keras: run %s in %s is unreadable (%v); training again\n", r.key, r.dir, err)
		}
		return nil, false, nil
	}
	weights, err := saved.Weights()
	if err != nil {
		return nil, false, err
	}
	if err := m.SetWeights(weights); err != nil {
		return nil, false, err
	}
	if lr, err := saved.LearningRate(); err == nil {
		if err := m.SetLearningRate(lr); err != nil {
			return nil, false, err
		}
	}
	hist = saved.history
	hist.Loaded = true
	hist.RunKey = r.key
	m.history = hist
	m.fits++
	if p.verbose > 0 {
		fmt.Fprintf(p.w, "loaded run %s from %s\n", r.key, r.dir)
		if transcript, err := os.ReadFile(filepath.Join(r.dir, logFile)); err == nil {
			_, _ = p.w.Write(transcript)
		}
	}
	return hist, true, nil
}

// save writes the finished run into its folder (atomically, complete marker last) and releases
// the run key's lock. A save that fails while a complete, readable run of the same key is in place
// (saved by another process) is no failure: the run is saved.
func (r *memoRun) save(m *Model, hist *History, transcript string) error {
	defer r.release()
	hist.RunKey = r.key
	if err := m.writeFolder(r.dir, r.key, transcript); err != nil {
		if isComplete(r.dir) {
			if _, lerr := loadFolder(r.dir); lerr == nil {
				return nil
			}
		}
		return errorf("fit: saving run %s to %s: %w", r.key, r.dir, err)
	}
	return nil
}

// release gives up the run key's lock, if it holds it.
func (r *memoRun) release() {
	if r.lock == nil {
		return
	}
	_ = r.lock.Release()
	r.lock = nil
}

// Data fingerprints use two hardware-accelerated CRC-32s (Castagnoli and IEEE, 64 bits together)
// instead of SHA-256: the data set is not adversarial, and SHA-256 runs at about 300 MB/s on these
// machines, too slow for CIFAR-10's 600 MB of float32 training images (the CRCs take well under
// 0.1 s). The run key itself is still a SHA-256 of everything.

// fingerprint accumulates the two CRCs.
type fingerprint struct{ castagnoli, ieee uint32 }

var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)

// Write implements io.Writer.
func (f *fingerprint) Write(p []byte) (int, error) {
	f.castagnoli = crc32.Update(f.castagnoli, castagnoliTable, p)
	f.ieee = crc32.Update(f.ieee, crc32.IEEETable, p)
	return len(p), nil
}

// String is the fingerprint as 16 hex digits.
func (f *fingerprint) String() string { return fmt.Sprintf("%08x%08x", f.castagnoli, f.ieee) }

// arrayFingerprint fingerprints an Array's shape and values.
func arrayFingerprint(a Array) string {
	f := &fingerprint{}
	fmt.Fprintf(f, "%v;", a.Shape)
	if a.Data == nil && a.Pixels != nil {
		// Pixels hash as bytes (4x less to hash); the prefix keeps them apart from float data.
		fmt.Fprint(f, "pixels/255;")
		_, _ = f.Write(a.Pixels)
		return f.String()
	}
	_ = writeFloats(f, a.Data) // a fingerprint never fails to write
	return f.String()
}

// labelsFingerprint fingerprints labels, one-hot or sparse.
func labelsFingerprint(l Labels) string {
	f := &fingerprint{}
	if l.Sparse() {
		fmt.Fprintf(f, "classes;%d;", len(l.Classes))
		buf := make([]byte, 4*len(l.Classes))
		for i, c := range l.Classes {
			binary.LittleEndian.PutUint32(buf[4*i:], uint32(c))
		}
		_, _ = f.Write(buf)
	} else {
		fmt.Fprintf(f, "onehot;%d;", l.NumClasses)
		_ = writeFloats(f, l.OneHot)
	}
	return f.String()
}
