// Package cifartest writes small synthetic copies of CIFAR-10 for tests: the binary version's
// batch files, in the official layout, with images whose colours depend on their class so that a
// model can learn them. Tests of the packages that load and train on CIFAR-10 (lab, the command)
// point CIFAR10_DIR at such a copy instead of the real data. It depends on no package of cifarlab,
// so that cifar's own tests use its images too (they add the python version's pickles).
package cifartest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// The geometry of a CIFAR-10 image, as the official files store it: channel-planar, 32×32 pixels
// for each of red, green and blue.
const (
	Height, Width, Channels = 32, 32, 3
	ImageSize               = Height * Width * Channels // bytes of one image
	NumClasses              = 10
	// BinaryFolder is the folder of the binary version inside its archive.
	BinaryFolder = "cifar-10-batches-bin"
)

// ClassNames are CIFAR-10's class names, in label order.
var ClassNames = [NumClasses]string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Options configure WriteBinary.
type Options struct {
	TrainPerBatch int    // images in each of the 5 training batches (default 20)
	Test          int    // images in the test batch (default 20)
	Seed          uint64 // seed of the pixel noise and the labels
}

// WriteBinary writes a synthetic copy of CIFAR-10's binary version into dir/cifar-10-batches-bin:
// data_batch_1.bin to data_batch_5.bin, test_batch.bin and batches.meta.txt.
func WriteBinary(dir string, opts Options) error {
	if opts.TrainPerBatch == 0 {
		opts.TrainPerBatch = 20
	}
	if opts.Test == 0 {
		opts.Test = 20
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	out := filepath.Join(dir, BinaryFolder)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("cifartest: %w", err)
	}
	write := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return fmt.Errorf("cifartest: %w", err)
		}
		return nil
	}
	for i := 1; i <= 5; i++ {
		if err := write(fmt.Sprintf("data_batch_%d.bin", i), EncodeBinaryBatch(Images(rng, opts.TrainPerBatch))); err != nil {
			return err
		}
	}
	if err := write("test_batch.bin", EncodeBinaryBatch(Images(rng, opts.Test))); err != nil {
		return err
	}
	return write("batches.meta.txt", []byte(strings.Join(ClassNames[:], "\n")+"\n\n"))
}

// Images makes n channel-planar images (ImageSize bytes each) and their random labels: each class
// has its own base colour and gradient, plus noise from rng.
func Images(rng *rand.Rand, n int) (planar, labels []uint8) {
	planar = make([]uint8, n*ImageSize)
	labels = make([]uint8, n)
	const plane = Height * Width
	for i := range n {
		label := uint8(rng.IntN(NumClasses))
		labels[i] = label
		for c := range Channels {
			// A per-class base colour and a per-class gradient direction.
			base := 40 + 18*int((int(label)+3*c)%NumClasses)
			for p := range plane {
				row, col := p/Width, p%Width
				grad := (row*int(label+1) + col*(c+1)) % 48
				v := base + grad + rng.IntN(41) - 20
				planar[i*ImageSize+c*plane+p] = uint8(max(0, min(255, v)))
			}
		}
	}
	return planar, labels
}

// EncodeBinaryBatch encodes images (channel-planar, ImageSize bytes each) and labels as a batch
// file of the binary version: one 3073-byte record (label, pixels) per image.
func EncodeBinaryBatch(planar, labels []uint8) []byte {
	out := make([]byte, 0, len(labels)*(ImageSize+1))
	for i, l := range labels {
		out = append(out, l)
		out = append(out, planar[i*ImageSize:(i+1)*ImageSize]...)
	}
	return out
}
