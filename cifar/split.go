package cifar

import (
	"fmt"
	"strings"
)

// Split is a set of labelled CIFAR-10 images, such as the training or the test set.
//
// Images holds Len() images of ImageSize bytes each, in height, width, channel order: the value of
// channel c of pixel (row, col) of image i is Images[i*ImageSize + (row*Width+col)*Channels + c].
// Labels holds one class index in [0, NumClasses) per image.
//
// Subsets made by Head, Slice and ValidationSplit share memory with the split they come from.
// A Split loaded from the flat cache may live in a copy-on-write file mapping: writing to it is
// allowed and never changes the cache file.
type Split struct {
	Name   string  // "train", "test", or a name derived from those ("train[:5000]")
	Images []uint8 // Len()*ImageSize bytes, [N,32,32,3]
	Labels []uint8 // Len() labels in [0, NumClasses)
}

// Len returns the number of images.
func (s *Split) Len() int { return len(s.Labels) }

// Image returns the ImageSize bytes of image i ([32,32,3]), sharing memory with the split.
func (s *Split) Image(i int) []uint8 { return s.Images[i*ImageSize : (i+1)*ImageSize] }

// Pixel returns the red, green and blue values of pixel (row, col) of image i.
func (s *Split) Pixel(i, row, col int) (r, g, b uint8) {
	p := s.Images[i*ImageSize+(row*Width+col)*Channels:]
	return p[0], p[1], p[2]
}

// Slice returns images [from, to) as a split sharing memory with s. Like Python slicing, bounds
// are clamped to [0, Len()].
func (s *Split) Slice(from, to int) *Split {
	from, to = max(0, min(from, s.Len())), max(0, min(to, s.Len()))
	to = max(from, to)
	return &Split{
		Name:   fmt.Sprintf("%s[%d:%d]", s.Name, from, to),
		Images: s.Images[from*ImageSize : to*ImageSize : to*ImageSize],
		Labels: s.Labels[from:to:to],
	}
}

// Head returns the first n images (all of them if n exceeds Len()), like x_train[:n] in the labs.
func (s *Split) Head(n int) *Split {
	h := s.Slice(0, n)
	h.Name = fmt.Sprintf("%s[:%d]", s.Name, h.Len())
	return h
}

// ValidationSplit splits s the way Keras's fit(validation_split=fraction) does: the last
// fraction of the samples, taken before any shuffling, becomes the validation set. Keras computes
// the boundary as int(n * (1 - fraction)). fraction must be in [0, 1); both parts must be non-empty
// when fraction > 0.
func (s *Split) ValidationSplit(fraction float64) (train, validation *Split, err error) {
	if !(fraction >= 0 && fraction < 1) {
		return nil, nil, fmt.Errorf("cifar: validation split %v outside [0, 1)", fraction)
	}
	at := int(float64(s.Len()) * (1 - fraction))
	if fraction > 0 && (at == 0 || at == s.Len()) {
		return nil, nil, fmt.Errorf("cifar: validation split %v of %d samples leaves an empty training or validation set", fraction, s.Len())
	}
	train, validation = s.Slice(0, at), s.Slice(at, s.Len())
	train.Name, validation.Name = s.Name+" (training part)", s.Name+" (validation part)"
	return train, validation, nil
}

// Float32 returns the images normalised to float32 in [0, 1] (x.astype('float32') / 255),
// flattened to Len() rows of ImageSize (3072) values in height, width, channel order, which is
// what a Keras Flatten layer produces from [32,32,3] images.
func (s *Split) Float32() []float32 { return Normalize(s.Images) }

// OneHot returns the labels one-hot encoded as Len() rows of NumClasses float32 values, like
// keras.utils.to_categorical(y, 10).
func (s *Split) OneHot() []float32 {
	out, _ := oneHot(s.Labels, NumClasses) // labels were validated when the split was loaded
	return out
}

// IntLabels returns the labels as ints, as sparse categorical losses expect them.
func (s *Split) IntLabels() []int {
	out := make([]int, len(s.Labels))
	for i, l := range s.Labels {
		out[i] = int(l)
	}
	return out
}

// ClassCounts returns how many images of each class the split holds.
func (s *Split) ClassCounts() [NumClasses]int {
	var counts [NumClasses]int
	for _, l := range s.Labels {
		if int(l) < NumClasses {
			counts[l]++
		}
	}
	return counts
}

// Validate checks that the sizes agree and that every label is a class index.
func (s *Split) Validate() error {
	if len(s.Images) != len(s.Labels)*ImageSize {
		return fmt.Errorf("cifar: %s: %d image bytes for %d labels, want %d (%d per image)",
			s.Name, len(s.Images), len(s.Labels), len(s.Labels)*ImageSize, ImageSize)
	}
	for i, l := range s.Labels {
		if int(l) >= NumClasses {
			return fmt.Errorf("cifar: %s: label %d of image %d is outside 0..%d", s.Name, l, i, NumClasses-1)
		}
	}
	return nil
}

// Description summarises a split for the first cells of a lab: shapes, dtype, value range, label
// range and the count of images per class.
type Description struct {
	Name               string
	ImageShape         [4]int // [N, 32, 32, 3]
	LabelShape         [1]int // [N]
	DType              string // "uint8"
	MinValue, MaxValue uint8  // pixel value range (0, 0 when empty)
	MinLabel, MaxLabel int    // label range (-1, -1 when empty)
	ClassCounts        [NumClasses]int
	ClassNames         [NumClasses]string
}

// Describe computes the Description of s.
func (s *Split) Describe() Description {
	d := Description{
		Name:       s.Name,
		ImageShape: [4]int{s.Len(), Height, Width, Channels},
		LabelShape: [1]int{s.Len()},
		DType:      "uint8",
		MinLabel:   -1, MaxLabel: -1,
		ClassCounts: s.ClassCounts(),
		ClassNames:  ClassNames,
	}
	if len(s.Images) > 0 {
		lo, hi := uint8(255), uint8(0)
		for _, v := range s.Images {
			lo, hi = min(lo, v), max(hi, v)
		}
		d.MinValue, d.MaxValue = lo, hi
	}
	if len(s.Labels) > 0 {
		lo, hi := 255, 0
		for _, l := range s.Labels {
			lo, hi = min(lo, int(l)), max(hi, int(l))
		}
		d.MinLabel, d.MaxLabel = lo, hi
	}
	return d
}

// String renders the description as aligned plain text, for example:
//
//	train: 50000 images
//	  images: shape (50000, 32, 32, 3), dtype uint8, values 0..255
//	  labels: shape (50000,), values 0..9
//	  images per class:
//	    0 airplane      5000
//	    ...
func (d Description) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d images\n", d.Name, d.ImageShape[0])
	fmt.Fprintf(&b, "  images: shape (%d, %d, %d, %d), dtype %s, values %d..%d\n",
		d.ImageShape[0], d.ImageShape[1], d.ImageShape[2], d.ImageShape[3], d.DType, d.MinValue, d.MaxValue)
	fmt.Fprintf(&b, "  labels: shape (%d,), values %d..%d\n", d.LabelShape[0], d.MinLabel, d.MaxLabel)
	b.WriteString("  images per class:\n")
	for c, n := range d.ClassCounts {
		fmt.Fprintf(&b, "    %d %-10s %6d\n", c, d.ClassNames[c], n)
	}
	return b.String()
}
