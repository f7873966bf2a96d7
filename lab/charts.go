package lab

import (
	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/plots"
)

// ClassSamples returns a 2x5 grid with the first image of each class of the split, titled with
// the class names.
func ClassSamples(s *cifar.Split) *plots.Chart {
	return plots.ClassSamples(splitImages(s), s.IntLabels(), cifar.ClassNames[:])
}

// ClassDistribution returns a bar chart of the number of images of each class of the split.
func ClassDistribution(s *cifar.Split) *plots.Chart {
	counts := s.ClassCounts()
	return plots.ClassDistribution(cifar.ClassNames[:], counts[:])
}

// splitImages returns every image of s (sharing its memory).
func splitImages(s *cifar.Split) [][]uint8 {
	images := make([][]uint8, s.Len())
	for i := range images {
		images[i] = s.Image(i)
	}
	return images
}
