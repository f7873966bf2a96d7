// Command stepcheck is the Go side of bench/keras/lockstep.py: it starts exercise 2's model from
// the weights Keras wrote (DIR/w0.bin, raw float32 in get_weights order), trains it on the first N
// training images for E epochs (batch 128, validation split 0.2, no shuffle unless -shuffle) and
// compares its weights with Keras's after the same steps (DIR/w1.bin); it prints the loss and
// val_loss per epoch, to set beside lockstep.py's History.
//
// Usage: go run ./bench/keras/stepcheck -dir OUT -n 5000 -epochs 6
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/internal/presets"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

func readWeights(path string, like []keras.LayerWeights) []keras.LayerWeights {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	out := make([]keras.LayerWeights, len(like))
	for i, l := range like {
		out[i] = l
		out[i].Kernel, f = f[:len(l.Kernel)], f[len(l.Kernel):]
		out[i].Bias, f = f[:len(l.Bias)], f[len(l.Bias):]
	}
	return out
}

func main() {
	dir := flag.String("dir", "", "folder holding lockstep.py's w0.bin and w1.bin")
	n := flag.Int("n", 256, "samples")
	epochs := flag.Int("epochs", 1, "epochs")
	shuffle := flag.Bool("shuffle", false, "shuffle")
	flag.Parse()
	if _, err := lab.UseBackend(); err != nil {
		panic(err)
	}
	ds, err := cifar.Load(context.Background(), cifar.Options{})
	if err != nil {
		panic(err)
	}
	tr := ds.Train.Head(*n)
	m, err := presets.Exercise2().NewModel()
	if err != nil {
		panic(err)
	}
	m.SetOutput(os.Stderr)
	like, _ := m.Weights()
	if err := m.SetWeights(readWeights(filepath.Join(*dir, "w0.bin"), like)); err != nil {
		panic(err)
	}
	h, err := m.Fit(context.Background(), lab.Images(tr), keras.Classes(tr.Labels), keras.FitConfig{Epochs: *epochs, BatchSize: 128, NoShuffle: !*shuffle, ValidationSplit: 0.2})
	if err != nil {
		panic(err)
	}
	got, _ := m.Weights()
	want := readWeights(filepath.Join(*dir, "w1.bin"), like)
	w0 := readWeights(filepath.Join(*dir, "w0.bin"), like)
	for i := range got {
		var maxd, maxmove float64
		for j := range got[i].Kernel {
			maxd = math.Max(maxd, math.Abs(float64(got[i].Kernel[j]-want[i].Kernel[j])))
			maxmove = math.Max(maxmove, math.Abs(float64(want[i].Kernel[j]-w0[i].Kernel[j])))
		}
		fmt.Printf("layer %d kernel: max |go - keras| %.3g, max keras move %.3g\n", i, maxd, maxmove)
	}
	b, _ := json.Marshal([][]float64{h.Series("loss"), h.Series("val_loss")})
	fmt.Println("loss", string(b))
}
