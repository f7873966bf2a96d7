package runs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/keras"
)

// Predictions are saved beside the run and read back by later calls; damaged ones are computed
// again, saying so, and replaced.
func TestPredictionsMemoized(t *testing.T) {
	m, err := keras.NewModel(keras.ModelSpec{InputShape: []int{6}, Seed: 4,
		Layers: []keras.LayerSpec{keras.Dense(8, keras.ReLU), keras.Dense(3, keras.Softmax)}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m.SetOutput(&out)
	x := keras.NewArray(make([]float32, 5*6), 5, 6)
	for i := range x.Data {
		x.Data[i] = float32(i%7) / 7
	}
	dir := t.TempDir()
	r := &Run{Key: "0123456789abcdef", Dir: filepath.Join(dir, "0123456789abcdef")}
	p1, err := r.Predictions(m, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, predictionsDir, "*.bin"))
	if len(files) != 1 || len(p1) != 5 || len(p1[0]) != 3 {
		t.Fatalf("prediction files %v, %d rows", files, len(p1))
	}
	// Other probabilities in the file: a second call reads them instead of predicting.
	marked := slices.Clone(p1)
	marked[0] = slices.Clone(marked[0])
	marked[0][0] = 0.125
	if err := writeProbs(files[0], marked); err != nil {
		t.Fatal(err)
	}
	p2, err := r.Predictions(m, x, 2)
	if err != nil || p2[0][0] != 0.125 {
		t.Fatalf("second Predictions did not read the saved file (%v, %v)", p2[0][0], err)
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)/2] ^= 1
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	p3, err := r.Predictions(m, x, 2)
	if err != nil || !slices.Equal(p3[0], p1[0]) {
		t.Fatalf("damaged file: probabilities %v (%v), want them computed again", p3[0], err)
	}
	if !strings.Contains(out.String(), "the saved predictions are damaged") {
		t.Errorf("a damaged file was replaced without a word: output %q", out.String())
	}
	if _, err := readProbs(files[0], 5, 3); err != nil {
		t.Errorf("the damaged file was not replaced: %v", err)
	}
}
