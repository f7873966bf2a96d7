package keras

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	x, _, y := blobs(20, 120, 4, 4, 4, 2)
	m := smallModel(t, 9, LossSparseCategoricalCrossentropy, Nadam(0.01))
	if _, err := m.Fit(context.Background(), x, y, FitConfig{Epochs: 2, BatchSize: 16, ValidationSplit: 0.25,
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
	if _, err := loaded.Fit(context.Background(), x, y, FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
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
	if err := os.Remove(filepath.Join(dir, atomicdir.CompleteFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "complete") {
		t.Errorf("Load without the complete marker: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing folder succeeded")
	}
}
