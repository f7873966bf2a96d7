package runs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cifarlab/cifarlab/internal/testutil"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/keras/runs"
)

var hexKey = regexp.MustCompile(`^[0-9a-f]{16}$`)

// The first Fit trains and saves the run; an identical Fit in a "new cell" (a fresh model) loads
// it: same key, weights, learning rate and History, and it prints the first Fit's epoch lines
// again after a "loaded run" line.
func TestFitTrainsThenLoads(t *testing.T) {
	f := newFitter(t)
	m1, r1, out1 := f.fit(baseConfig(), runs.Options{})
	if r1.Loaded || !hexKey.MatchString(r1.Key) {
		t.Fatalf("first Fit: loaded %v, key %q; want trained, 16 hex digits", r1.Loaded, r1.Key)
	}
	if want := filepath.Join(f.dir, r1.Key); r1.Dir != want {
		t.Errorf("run folder %s, want %s", r1.Dir, want)
	}
	if !strings.Contains(out1, "Epoch 1/2") || !strings.Contains(out1, "Epoch 2/2") {
		t.Errorf("first Fit printed %q, want the epoch lines", out1)
	}
	names := readDir(t, r1.Dir)
	for _, want := range []string{"model", "log.txt", "run.json", "SHA256SUMS", "complete"} {
		if !slices.Contains(names, want) {
			t.Errorf("the run folder holds %v, no %s", names, want)
		}
	}
	if log, err := os.ReadFile(filepath.Join(r1.Dir, "log.txt")); err != nil || string(log) != out1 {
		t.Errorf("log.txt is %q (%v), want what the training printed, %q", log, err, out1)
	}
	var info struct{ Key, Version string }
	if data, err := os.ReadFile(filepath.Join(r1.Dir, "run.json")); err != nil || json.Unmarshal(data, &info) != nil || info.Key != r1.Key || info.Version == "" {
		t.Errorf("run.json: %s (%v), want key %s and a version", data, err, r1.Key)
	}
	if saved, err := keras.Load(filepath.Join(r1.Dir, "model")); err != nil {
		t.Errorf("keras.Load of the run's model: %v", err)
	} else if !weightsEqual(t, saved, m1) {
		t.Error("the run's model/ holds other weights than the trained model")
	}

	m2, r2, out2 := f.fit(baseConfig(), runs.Options{})
	if !r2.Loaded || r2.Key != r1.Key || r2.Dir != r1.Dir {
		t.Fatalf("second Fit: loaded %v, key %q, folder %s; want loaded %q from %s", r2.Loaded, r2.Key, r2.Dir, r1.Key, r1.Dir)
	}
	if want := "loaded run " + r1.Key + " from " + r1.Dir + "\n" + out1; out2 != want {
		t.Errorf("second Fit printed\n%s\nwant\n%s", out2, want)
	}
	if !weightsEqual(t, m1, m2) {
		t.Error("the loaded weights differ from the trained ones")
	}
	lr1, err1 := m1.LearningRate()
	lr2, err2 := m2.LearningRate()
	if err1 != nil || err2 != nil || lr1 != lr2 {
		t.Errorf("learning rates %v (%v) and %v (%v)", lr1, err1, lr2, err2)
	}
	if h1, h2 := historyJSON(t, r1.History), historyJSON(t, r2.History); h1 != h2 {
		t.Errorf("loaded History\n%s\nwant the trained one\n%s", h2, h1)
	}
	if m2.History() == nil || historyJSON(t, m2.History()) != historyJSON(t, r1.History) {
		t.Error("the model a run was loaded into does not hold the run's History")
	}
	if key, err := runs.Key(smallModel(t, f.seed), f.x, f.y, baseConfig()); err != nil || key != r1.Key {
		t.Errorf("Key: %q, %v; want %q", key, err, r1.Key)
	}
	if names := readDir(t, f.dir); !slices.Equal(names, []string{r1.Key}) {
		t.Errorf("the runs folder holds %v, want only the run", names)
	}
}

// Options.Retrain trains even though the run exists, and replaces it; the next Fit loads the new one.
func TestRetrain(t *testing.T) {
	f := newFitter(t)
	_, r1, _ := f.fit(baseConfig(), runs.Options{})
	info1, err := os.ReadFile(filepath.Join(r1.Dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, r2, out2 := f.fit(baseConfig(), runs.Options{Retrain: true})
	if r2.Loaded || r2.Key != r1.Key || strings.Contains(out2, "loaded run") || !strings.Contains(out2, "Epoch 2/2") {
		t.Errorf("Retrain: loaded %v, key %s (first %s), output %q; want trained again", r2.Loaded, r2.Key, r1.Key, out2)
	}
	info2, err := os.ReadFile(filepath.Join(r1.Dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(info1, info2) {
		t.Error("run.json is unchanged after Retrain: the run was not replaced")
	}
	if _, r3, _ := f.fit(baseConfig(), runs.Options{}); !r3.Loaded {
		t.Error("the retrained run was not saved")
	}
	assertNoLeftovers(t, f.dir)
}

// What a loaded run prints: nothing with Options.Quiet or Verbose 0, else the "loaded run" line
// and the record of the training, which is kept at every verbosity (here the training printed
// nothing). Quiet does not silence training; FitConfig.Log receives the epoch lines.
func TestLoadedOutput(t *testing.T) {
	f := newFitter(t)
	cfg := baseConfig()
	cfg.Verbose = 0
	var log bytes.Buffer
	cfg.Log = &log
	_, r, out := f.fit(cfg, runs.Options{})
	if out != "" || !strings.Contains(log.String(), "Epoch 2/2") {
		t.Fatalf("a silent training printed %q and logged %q; want nothing printed and the epoch lines logged", out, log.String())
	}
	header := "loaded run " + r.Key + " from " + r.Dir + "\n"
	tests := []struct {
		name    string
		verbose int
		quiet   bool
		want    string
	}{
		{"verbose 2", 2, false, header + log.String()},
		{"verbose 1", 1, false, header + log.String()},
		{"verbose 0", 0, false, ""},
		{"quiet", 2, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Verbose = tc.verbose
			_, r, out := f.fit(cfg, runs.Options{Quiet: tc.quiet})
			if !r.Loaded || out != tc.want {
				t.Errorf("loaded %v, printed %q; want loaded, printed %q", r.Loaded, out, tc.want)
			}
		})
	}
	t.Run("quiet retrain", func(t *testing.T) {
		_, r, out := f.fit(baseConfig(), runs.Options{Quiet: true, Retrain: true})
		if r.Loaded || !strings.Contains(out, "Epoch 2/2") {
			t.Errorf("loaded %v, printed %q; want trained with its epoch lines", r.Loaded, out)
		}
	})
}

// The key covers what changes the training (data, weights, optimizer state, compile and fit
// settings, callbacks by type and exported fields) and nothing else (output settings, unexported
// callback fields).
func TestKey(t *testing.T) {
	x, y := blobs(21, 64)
	// fit is the input of the key, which the cases change.
	type fit struct {
		m   *keras.Model
		x   keras.Array
		y   keras.Labels
		cfg keras.FitConfig
	}
	key := func(t *testing.T, f fit) string {
		t.Helper()
		k, err := runs.Key(f.m, f.x, f.y, f.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !hexKey.MatchString(k) {
			t.Fatalf("key %q is not 16 hex digits", k)
		}
		return k
	}
	base := key(t, fit{smallModel(t, 11), x, y, baseConfig()})
	otherX := keras.NewArray(slices.Clone(x.Data), x.Shape...)
	otherX.Data[5] += 0.5
	otherY := keras.OneHot(slices.Clone(y.OneHot), 4)
	clear(otherY.OneHot[:4])
	otherY.OneHot[(slices.Index(y.OneHot[:4], 1)+1)%4] = 1
	valX, valY := blobs(22, 16)
	tests := []struct {
		name   string
		change func(t *testing.T, f *fit)
		same   bool
	}{
		{"batch size", func(_ *testing.T, f *fit) { f.cfg.BatchSize = 32 }, false},
		{"epochs", func(_ *testing.T, f *fit) { f.cfg.Epochs = 3 }, false},
		{"validation split", func(_ *testing.T, f *fit) { f.cfg.ValidationSplit = 0.5 }, false},
		{"validation data", func(_ *testing.T, f *fit) { f.cfg.ValidationData = &keras.Dataset{X: valX, Y: valY} }, false},
		{"no shuffle", func(_ *testing.T, f *fit) { f.cfg.NoShuffle = true }, false},
		{"one input value", func(_ *testing.T, f *fit) { f.x = otherX }, false},
		{"one label", func(_ *testing.T, f *fit) { f.y = otherY }, false},
		{"seed", func(t *testing.T, f *fit) { f.m = smallModel(t, 12) }, false},
		{"one weight", func(t *testing.T, f *fit) {
			w, err := f.m.Weights()
			if err != nil {
				t.Fatal(err)
			}
			w[0].Bias[0] += 1
			if err := f.m.SetWeights(w); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"learning rate", func(t *testing.T, f *fit) {
			if err := f.m.SetLearningRate(0.02); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"optimizer", func(t *testing.T, f *fit) {
			if err := f.m.Compile(keras.CompileConfig{Optimizer: keras.SGD(0.01), Loss: keras.LossCategoricalCrossentropy,
				Metrics: []keras.Metric{keras.MetricAccuracy}}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"optimizer steps taken", func(t *testing.T, f *fit) {
			if _, err := f.m.Fit(t.Context(), f.x, f.y, keras.FitConfig{Epochs: 1, BatchSize: 64, Output: &bytes.Buffer{}}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"callback setting", func(_ *testing.T, f *fit) {
			f.cfg.Callbacks = []keras.Callback{&keras.EarlyStopping{Monitor: "val_loss", Patience: 6, RestoreBestWeights: true}}
		}, false},
		{"another callback", func(_ *testing.T, f *fit) {
			f.cfg.Callbacks = append(f.cfg.Callbacks, keras.NewReduceLROnPlateau("val_loss", 0.5, 2, 1e-5))
		}, false},
		{"no callbacks", func(_ *testing.T, f *fit) { f.cfg.Callbacks = nil }, false},
		{"output settings", func(_ *testing.T, f *fit) {
			f.cfg.Verbose, f.cfg.Output, f.cfg.Log, f.cfg.ProgressInterval = 1, &bytes.Buffer{}, &bytes.Buffer{}, time.Second
		}, true},
		{"a fresh model", func(t *testing.T, f *fit) { f.m = smallModel(t, 11) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fit{smallModel(t, 11), x, y, baseConfig()}
			tc.change(t, &f)
			if got := key(t, f); (got == base) != tc.same {
				t.Errorf("key %s, base key %s; want the same %v", got, base, tc.same)
			}
		})
	}
	t.Run("unexported callback fields", func(t *testing.T) {
		withProbe := func(p *probe) string {
			cfg := baseConfig()
			cfg.Callbacks = append(cfg.Callbacks, p)
			return key(t, fit{smallModel(t, 11), x, y, cfg})
		}
		if a, b := withProbe(&probe{}), withProbe(&probe{onEpochEnd: func(int) error { return errors.New("x") }}); a != b {
			t.Errorf("keys %s and %s", a, b)
		}
	})
	t.Run("uncompiled", func(t *testing.T) {
		if k, err := runs.Key(uncompiledModel(t, 11), x, y, baseConfig()); err == nil || !strings.Contains(err.Error(), "not compiled") {
			t.Errorf("Key of an uncompiled model: %q, %v", k, err)
		}
	})
}

// A Fit with another key trains, beside the first run: other settings, other data, and a second
// Fit of the same model (which continues from the trained weights).
func TestOtherKeysTrain(t *testing.T) {
	f := newFitter(t)
	_, first, _ := f.fit(baseConfig(), runs.Options{})
	keys := []string{first.Key}
	check := func(what string, r *runs.Run) {
		t.Helper()
		if r.Loaded || slices.Contains(keys, r.Key) {
			t.Errorf("%s: loaded %v, key %s (earlier keys %v); want trained under a new key", what, r.Loaded, r.Key, keys)
		}
		keys = append(keys, r.Key)
	}
	cfg := baseConfig()
	cfg.BatchSize = 32
	_, r, _ := f.fit(cfg, runs.Options{})
	check("another batch size", r)

	x2 := keras.NewArray(slices.Clone(f.x.Data), f.x.Shape...)
	x2.Data[5] += 0.5
	m := smallModel(t, f.seed)
	r, err := runs.FitOrLoad(t.Context(), m, x2, f.y, baseConfig(), runs.Options{Dir: f.dir, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	check("other data", r)
	r, err = runs.FitOrLoad(t.Context(), m, x2, f.y, baseConfig(), runs.Options{Dir: f.dir, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	check("a second Fit of the model", r)

	f.seed = 12
	_, r, _ = f.fit(baseConfig(), runs.Options{})
	check("other initial weights", r)

	slices.Sort(keys)
	if names := readDir(t, f.dir); !slices.Equal(names, keys) {
		t.Errorf("the runs folder holds %v, want the runs %v", names, keys)
	}
}

// A run folder without its complete marker (a save that did not finish) is not loaded: Fit trains
// and replaces it.
func TestIncompleteRunIgnored(t *testing.T) {
	f := newFitter(t)
	_, r, _ := f.fit(baseConfig(), runs.Options{})
	if err := os.Remove(filepath.Join(r.Dir, "complete")); err != nil {
		t.Fatal(err)
	}
	if _, r, out := f.fit(baseConfig(), runs.Options{}); r.Loaded || strings.Contains(out, "loaded run") {
		t.Errorf("a run without its complete marker was loaded: %q", out)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "complete")); err != nil {
		t.Errorf("the incomplete run was not replaced: %v", err)
	}
	if _, r, _ := f.fit(baseConfig(), runs.Options{}); !r.Loaded {
		t.Error("the replacing run does not load")
	}
	assertNoLeftovers(t, f.dir)
}

// A complete run that cannot be read (a file changed or removed after it was saved) is trained
// again, saying why, and replaced.
func TestUnreadableRun(t *testing.T) {
	flip := func(name, find, replace string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(data, []byte(find))
			if i < 0 {
				t.Fatalf("%s lacks %q", path, find)
			}
			copy(data[i:], replace)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		why    string
	}{
		{"log.txt changed", flip("log.txt", "Epoch 1/2", "Epoch 9/2"), "checksum mismatch"},
		{"run.json changed", flip("run.json", `"version"`, `"versioN"`), "checksum mismatch"},
		{"weights changed", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "model", "weights.bin")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0xff
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "checksum mismatch"},
		{"history changed", flip(filepath.Join("model", "history.json"), `"epochs"`, `"epochz"`), "checksum mismatch"},
		{"model.json changed", flip(filepath.Join("model", "model.json"), `"relu"`, `"tanh"`), "checksum mismatch"},
		{"SHA256SUMS removed", remove("SHA256SUMS"), "SHA256SUMS"},
		{"model removed", remove("model"), "model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFitter(t)
			_, r, _ := f.fit(baseConfig(), runs.Options{})
			tc.damage(t, r.Dir)
			_, r2, out := f.fit(baseConfig(), runs.Options{})
			if r2.Loaded || !strings.Contains(out, "runs: run "+r.Key+" in "+r.Dir+" is unreadable") || !strings.Contains(out, tc.why) ||
				!strings.Contains(out, "training again") || !strings.Contains(out, "Epoch 2/2") {
				t.Errorf("after damage: loaded %v, printed %q; want it trained again, saying the run is unreadable (%s)", r2.Loaded, out, tc.why)
			}
			if _, r3, _ := f.fit(baseConfig(), runs.Options{}); !r3.Loaded {
				t.Error("the run trained again was not saved")
			}
			assertNoLeftovers(t, f.dir)
		})
	}
}

// A training that a callback ends with an error saves nothing and releases its lock: the next
// identical Fit trains at once.
func TestFailedTraining(t *testing.T) {
	f := newFitter(t)
	boom := errors.New("boom")
	cfg := baseConfig()
	cfg.Callbacks = append(cfg.Callbacks, &probe{onEpochEnd: func(epoch int) error {
		if epoch == 1 {
			return boom
		}
		return nil
	}})
	m := smallModel(t, f.seed)
	r, err := runs.FitOrLoad(t.Context(), m, f.x, f.y, cfg, runs.Options{Dir: f.dir, Quiet: true})
	if !errors.Is(err, boom) {
		t.Fatalf("Fit: %v, want the callback's error", err)
	}
	if r != nil && r.Loaded {
		t.Error("a failed Fit says it loaded")
	}
	if names := readDir(t, f.dir); len(names) != 0 {
		t.Errorf("a failed training left %v in the runs folder", names)
	}

	cfg.Callbacks[1] = &probe{} // same key, no failure
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	r, err = runs.FitOrLoad(ctx, smallModel(t, f.seed), f.x, f.y, cfg, runs.Options{Dir: f.dir, Quiet: true})
	if err != nil {
		t.Fatalf("the Fit after a failed one: %v", err)
	}
	if r.Loaded {
		t.Error("the Fit after a failed one loaded a run")
	}
	assertNoLeftovers(t, f.dir)
}

// A Fit whose context is cancelled during training returns the History of the epochs finished so
// far and an error wrapping context.Canceled, and saves nothing.
func TestCancelled(t *testing.T) {
	f := newFitter(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := baseConfig()
	cfg.Epochs = 3
	steps := 3 // 48 training samples in batches of 16
	batches := 0
	cfg.Callbacks = append(cfg.Callbacks, &probe{onBatchEnd: func() error {
		if batches++; batches == steps+2 {
			cancel()
		}
		return nil
	}})
	r, err := runs.FitOrLoad(ctx, smallModel(t, f.seed), f.x, f.y, cfg, runs.Options{Dir: f.dir, Quiet: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit: %v, want an error wrapping context.Canceled", err)
	}
	if r == nil || r.Loaded || r.History == nil || len(r.History.Epochs) != 1 {
		t.Fatalf("Fit returned %+v; want the History of the one finished epoch", r)
	}
	if batches != steps+2 {
		t.Errorf("%d batches ran, want %d", batches, steps+2)
	}
	if names := readDir(t, f.dir); len(names) != 0 {
		t.Errorf("a cancelled training left %v in the runs folder", names)
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel2()
	r, err = runs.FitOrLoad(ctx2, smallModel(t, f.seed), f.x, f.y, cfg, runs.Options{Dir: f.dir, Quiet: true})
	if err != nil || r.Loaded || len(r.History.Epochs) != 3 {
		t.Errorf("the Fit after a cancelled one: %+v, %v; want trained", r, err)
	}
}

// Fit refuses, before training, an empty Options.Dir and an uncompiled model.
func TestFitErrors(t *testing.T) {
	x, y := blobs(21, 64)
	tests := []struct {
		name  string
		model func(t *testing.T) *keras.Model
		dir   func(t *testing.T) string
		want  string
	}{
		{"no Dir", func(t *testing.T) *keras.Model { return smallModel(t, 11) }, func(*testing.T) string { return "" }, "Options.Dir is empty"},
		{"not compiled", func(t *testing.T) *keras.Model { return uncompiledModel(t, 11) }, func(t *testing.T) string { return t.TempDir() }, "not compiled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var began atomic.Int32
			cfg := baseConfig()
			cfg.Output = &bytes.Buffer{}
			cfg.Callbacks = append(cfg.Callbacks, &probe{onTrainBegin: func() error { began.Add(1); return nil }})
			r, err := runs.FitOrLoad(t.Context(), tc.model(t), x, y, cfg, runs.Options{Dir: tc.dir(t)})
			if err == nil || !strings.Contains(err.Error(), tc.want) || r != nil || began.Load() != 0 {
				t.Errorf("Fit: %+v, %v, %d training(s) began; want an error saying %q before training", r, err, began.Load(), tc.want)
			}
		})
	}
}

// fitBeforeTraining runs a memoized Fit into dir that must fail before training; it returns the
// error.
func fitBeforeTraining(t *testing.T, dir string) error {
	t.Helper()
	x, y := blobs(31, 32)
	var began atomic.Int32
	cfg := keras.FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{},
		Callbacks: []keras.Callback{&probe{onTrainBegin: func() error { began.Add(1); return nil }}}}
	r, err := runs.FitOrLoad(t.Context(), smallModel(t, 3), x, y, cfg, runs.Options{Dir: dir})
	if err == nil || r != nil || began.Load() != 0 {
		t.Fatalf("Fit into %s: %+v, %v, %d training(s) began; want an error before training", dir, r, err, began.Load())
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("the error does not name the runs folder %s: %v", dir, err)
	}
	return err
}

// A runs folder that cannot be written fails Fit before training, not at the save after it.
func TestRunsDirNotWritable(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"the runs folder is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "runs")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"its parent is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(p, "runs")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := fitBeforeTraining(t, tc.dir(t)); !strings.Contains(err.Error(), "cannot be written") {
				t.Errorf("Fit: %v; want it to say the folder cannot be written", err)
			}
		})
	}
}

// The same with a read-only folder, which only binds a user other than root (as root, the test
// runs again in a child process as user nobody).
func TestRunsDirReadOnly(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	tests := []struct {
		name string
		dir  func(t *testing.T) string // given a read-only folder
	}{
		{"the runs folder", func(t *testing.T) string { return t.TempDir() }},
		{"its parent, the runs folder missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "runs") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			ro := dir
			if _, err := os.Stat(dir); err != nil {
				ro = filepath.Dir(dir)
			}
			if err := os.Chmod(ro, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(ro, 0o755) })
			if err := fitBeforeTraining(t, dir); !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "cannot be written") {
				t.Errorf("Fit: %v; want it to say the folder cannot be written: permission denied", err)
			}
		})
	}
}

// A save that fails after training (the runs folder became read-only meanwhile) is an error that
// names the run's folder, with the History of the training; nothing is left that looks like a run.
// As root, the test runs again in a child process as user nobody.
func TestSaveFails(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	tests := []struct {
		name    string
		retrain bool // over an existing run
	}{
		{"new run", false},
		{"retrained run", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFitter(t)
			cfg := baseConfig()
			cfg.Callbacks = append(cfg.Callbacks, &probe{})
			var old *runs.Run
			if tc.retrain {
				_, old, _ = f.fit(cfg, runs.Options{})
			}
			cfg.Output = &bytes.Buffer{}
			cfg.Callbacks[1] = &probe{onTrainBegin: func() error { return os.Chmod(f.dir, 0o555) }} // same key
			t.Cleanup(func() { os.Chmod(f.dir, 0o755) })
			r, err := runs.FitOrLoad(t.Context(), smallModel(t, f.seed), f.x, f.y, cfg, runs.Options{Dir: f.dir, Retrain: tc.retrain})
			if err == nil || !strings.Contains(err.Error(), "saving run") || !strings.Contains(err.Error(), f.dir) || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("Fit: %v; want an error saying the run could not be saved into %s", err, f.dir)
			}
			if r == nil || r.Loaded || r.History == nil || len(r.History.Epochs) != 2 {
				t.Errorf("Fit returned %+v; want the trained History", r)
			}
			if err := os.Chmod(f.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if old != nil {
				want = append(want, old.Key)
			}
			var names []string
			for _, name := range readDir(t, f.dir) {
				if !strings.HasPrefix(name, ".lock-") { // a read-only folder keeps the released lock's file
					names = append(names, name)
				}
			}
			if !slices.Equal(names, want) && !(len(names) == 0 && len(want) == 0) {
				t.Errorf("the runs folder holds %v, want %v", names, want)
			}
		})
	}
}

// A loaded run continues exactly as the trained model would: train 2 epochs (saved), load them
// into a fresh model and fit 2 more, against the trained model fitting its 2 more in memory; and,
// without shuffling, against 4 epochs straight. Weights and losses must be equal, bit for bit.
func TestLoadedRunContinues(t *testing.T) {
	for _, opt := range []keras.Optimizer{keras.Adam(0.01), keras.Nadam(0.01), keras.RMSprop(0.01), func() keras.Optimizer {
		o := keras.SGD(0.05)
		o.Momentum = 0.9
		return o
	}()} {
		t.Run(string(opt.Name), func(t *testing.T) {
			x, y := blobs(21, 64)
			compiled := func() *keras.Model {
				m := uncompiledModel(t, 11)
				if err := m.Compile(keras.CompileConfig{Optimizer: opt, Loss: keras.LossCategoricalCrossentropy}); err != nil {
					t.Fatal(err)
				}
				return m
			}
			cfg := keras.FitConfig{Epochs: 2, BatchSize: 16, NoShuffle: true, Output: &bytes.Buffer{}}
			dir := filepath.Join(t.TempDir(), "runs")

			trained := compiled()
			if _, err := runs.FitOrLoad(t.Context(), trained, x, y, cfg, runs.Options{Dir: dir}); err != nil {
				t.Fatal(err)
			}
			loaded := compiled()
			r, err := runs.FitOrLoad(t.Context(), loaded, x, y, cfg, runs.Options{Dir: dir})
			if err != nil || !r.Loaded {
				t.Fatalf("second Fit: loaded %v, %v", r != nil && r.Loaded, err)
			}
			if n, _ := loaded.Iterations(); n != 8 {
				t.Errorf("loaded model: %d optimizer steps, want 8", n)
			}
			h1, err := trained.Fit(t.Context(), x, y, cfg)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := loaded.Fit(t.Context(), x, y, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !weightsEqual(t, trained, loaded) || h1.Last().Loss != h2.Last().Loss {
				t.Errorf("after 2 more epochs: the loaded model's loss %v, the trained one's %v; weights equal %v",
					h2.Last().Loss, h1.Last().Loss, weightsEqual(t, trained, loaded))
			}
			straight := compiled()
			four := cfg
			four.Epochs = 4
			if _, err := straight.Fit(t.Context(), x, y, four); err != nil {
				t.Fatal(err)
			}
			if !weightsEqual(t, straight, loaded) {
				t.Error("2 epochs, saved, loaded and 2 more differ from 4 epochs straight")
			}
		})
	}
}
