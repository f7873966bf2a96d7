package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	x, _, y := blobs(20, 120, 4, 4, 4, 2)
	m := smallModel(t, 9, LossSparseCategoricalCrossentropy, Nadam(0.01))
	if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 16, ValidationSplit: 0.25,
		Callbacks: []Callback{&ReduceLROnPlateau{Monitor: "val_loss", Mode: ModeMax, Factor: 0.5, Quiet: true}}}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// Saving again replaces the folder.
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	w1, _ := m.Weights()
	w2, _ := loaded.Weights()
	if !weightsEqual(w1, w2) {
		t.Error("loaded weights differ")
	}
	if !slices.Equal(loaded.History().Series("val_loss"), m.History().Series("val_loss")) {
		t.Error("loaded history differs")
	}
	c1, _ := m.CompileConfig()
	c2, ok := loaded.CompileConfig()
	if !ok || c1.Loss != c2.Loss || c1.Optimizer != c2.Optimizer {
		t.Errorf("compile config %+v, want %+v", c2, c1)
	}
	lr1, _ := m.LearningRate()
	lr2, _ := loaded.LearningRate()
	if lr1 != lr2 || lr1 == float64(float32(0.01)) {
		t.Errorf("learning rate %v after load, %v before (and reduced from 0.01)", lr2, lr1)
	}
	p1, _ := m.Predict(x, 50)
	p2, _ := loaded.Predict(x, 50)
	if !slices.Equal(p1.Data, p2.Data) {
		t.Error("loaded model predicts differently")
	}
	if loaded.Summary() != m.Summary() {
		t.Error("loaded summary differs")
	}
	// The loaded model trains on.
	if _, err := loaded.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporary folders left behind: %v", entries)
	}
}

func TestLoadRefusesIncompleteOrCorrupt(t *testing.T) {
	m := smallModel(t, 9, LossCategoricalCrossentropy, Adam(0.01))
	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(dir, weightsFile)
	data, err := os.ReadFile(weights)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(weights, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("Load of a corrupted weights file: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, completeFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "complete") {
		t.Errorf("Load without the complete marker: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing folder succeeded")
	}
}

// TestMemoizedFit checks memoized training: the first call trains and saves the run, an identical
// call in a "new cell" (a fresh model) loads it, Retrain and CIFARLAB_RETRAIN train again, a run
// folder without the complete marker is ignored, and other data or settings give another key.
func TestMemoizedFit(t *testing.T) {
	x, y, _ := blobs(21, 160, 4, 4, 4, 2)
	runs := t.TempDir()
	cfg := func(out *bytes.Buffer) FitConfig {
		return FitConfig{Epochs: 3, BatchSize: 16, ValidationSplit: 0.2, Verbose: 2, Output: out, RunsDir: runs,
			Callbacks: []Callback{NewEarlyStopping("val_loss", 5, true)}}
	}
	cell := func(c FitConfig) (*Model, *History) {
		m := smallModel(t, 11, LossCategoricalCrossentropy, Adam(0.01))
		h, err := m.Fit(x, y, c)
		if err != nil {
			t.Fatal(err)
		}
		return m, h
	}

	var out1 bytes.Buffer
	m1, h1 := cell(cfg(&out1))
	if h1.Loaded || len(h1.RunKey) != 16 {
		t.Fatalf("first call: loaded %v, key %q", h1.Loaded, h1.RunKey)
	}
	runDir := filepath.Join(runs, h1.RunKey)
	if !isComplete(runDir) {
		t.Fatal("no complete run folder after training")
	}

	var out2 bytes.Buffer
	m2, h2 := cell(cfg(&out2))
	if !h2.Loaded || h2.RunKey != h1.RunKey {
		t.Fatalf("second call: loaded %v, key %q (first %q)", h2.Loaded, h2.RunKey, h1.RunKey)
	}
	if want := "loaded run " + h1.RunKey + " from " + runDir + "\n"; !strings.HasPrefix(out2.String(), want) {
		t.Errorf("second call printed %q, want it to start with %q", out2.String(), want)
	}
	// The replayed transcript is the first call's output (without the backend line).
	if !strings.HasSuffix(out1.String(), strings.TrimPrefix(out2.String(), "loaded run "+h1.RunKey+" from "+runDir+"\n")) {
		t.Errorf("replayed output differs:\n%s\n---\n%s", out1.String(), out2.String())
	}
	w1, _ := m1.Weights()
	w2, _ := m2.Weights()
	if !weightsEqual(w1, w2) || !slices.Equal(h1.Series("val_loss"), h2.Series("val_loss")) || h1.WeightsEpoch != h2.WeightsEpoch {
		t.Error("loaded run differs from the trained one")
	}

	var out3 bytes.Buffer
	c := cfg(&out3)
	c.Retrain = true
	if _, h := cell(c); h.Loaded || strings.Contains(out3.String(), "loaded run") {
		t.Error("Retrain loaded the run")
	}
	t.Setenv(RetrainEnv, "1")
	if _, h := cell(cfg(&bytes.Buffer{})); h.Loaded {
		t.Errorf("%s=1 loaded the run", RetrainEnv)
	}
	t.Setenv(RetrainEnv, "")

	// An interrupted run (no complete marker) is ignored and replaced.
	if err := os.Remove(filepath.Join(runDir, completeFile)); err != nil {
		t.Fatal(err)
	}
	if _, h := cell(cfg(&bytes.Buffer{})); h.Loaded {
		t.Error("a run without its complete marker was loaded")
	}
	if !isComplete(runDir) {
		t.Error("the incomplete run was not replaced")
	}

	// A complete run that cannot be read is trained again, saying so.
	if err := os.WriteFile(filepath.Join(runDir, weightsFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out4 bytes.Buffer
	if _, h := cell(cfg(&out4)); h.Loaded || !strings.Contains(out4.String(), "is unreadable") {
		t.Errorf("unreadable run: loaded %v, output %q", h.Loaded, out4.String())
	}
	if _, h := cell(cfg(&bytes.Buffer{})); !h.Loaded {
		t.Error("the retrained run was not saved")
	}

	// Other settings or data, other keys.
	c = cfg(&bytes.Buffer{})
	c.BatchSize = 32
	if _, h := cell(c); h.Loaded || h.RunKey == h1.RunKey {
		t.Errorf("another batch size gave key %q (loaded %v)", h.RunKey, h.Loaded)
	}
	x2 := NewArray(slices.Clone(x.Data), x.Shape...)
	x2.Data[5] += 0.5
	m := smallModel(t, 11, LossCategoricalCrossentropy, Adam(0.01))
	h, err := m.Fit(x2, y, cfg(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	if h.Loaded || h.RunKey == h1.RunKey {
		t.Errorf("other data gave key %q (loaded %v)", h.RunKey, h.Loaded)
	}
	// A second Fit of the same model continues from trained weights: another key.
	if h, err := m.Fit(x2, y, cfg(&bytes.Buffer{})); err != nil || h.Loaded {
		t.Errorf("second Fit of a model: loaded %v, %v", h.Loaded, err)
	}
	for _, e := range mustReadDir(t, runs) {
		if strings.HasPrefix(e, ".tmp-") || strings.HasPrefix(e, ".old-") {
			t.Errorf("leftover folder %s", e)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// BenchmarkFingerprint fingerprints CIFAR-10's training images as float32 (50,000 × 3072, 614 MB).
func BenchmarkFingerprint(b *testing.B) {
	data := make([]float32, 50000*3072)
	for i := range data {
		data[i] = float32(i%255) / 255
	}
	b.SetBytes(int64(4 * len(data)))
	for b.Loop() {
		arrayFingerprint(NewArray(data, -1, 32, 32, 3))
	}
}
