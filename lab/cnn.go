package lab

import (
	"errors"
	"fmt"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/plots"
)

// Charts are several charts shown one after the other by Show.
type Charts []*plots.Chart

// Display shows each chart in turn and returns the first error.
func (cs Charts) Display() error {
	for _, c := range cs {
		if err := c.Display(); err != nil {
			return err
		}
	}
	return nil
}

// Filters returns the trained model's first Conv2D layer's filters as a grid of small colour
// images (see plots.Filters): what that layer looks for in the pixels (edges of a direction,
// colour blobs, ...), like plotting model.layers[0].get_weights()[0] in Keras. It stops the cell
// when the model has no Conv2D layer.
func (r *TrainedModel) Filters() *plots.Chart { return Must(filters(r.Model)) }

func filters(m *keras.Model) (*plots.Chart, error) {
	weights, err := m.Weights()
	if err != nil {
		return nil, err
	}
	for _, w := range weights {
		if len(w.KernelShape) == 4 {
			return plots.Filters(w.Kernel, w.KernelShape).WithTitle(fmt.Sprintf("The filters of %s, the first convolution", w.Name)), nil
		}
	}
	return nil, errors.New("lab: Filters: the model has no Conv2D layer")
}

// FeatureMapsShown is how many feature maps FeatureMaps shows per convolution (the first ones).
const FeatureMapsShown = 16

// FeatureMaps returns what the trained model's convolutions make of test image i: the image
// itself, then, for each Conv2D layer in order, its first FeatureMapsShown feature maps (after
// its activation) for that image as a grid of grey images (see plots.FeatureMaps), computed with
// keras.Model.PredictLayer, like keras.Model(model.inputs, layer.output).predict(image) in Keras.
// It stops the cell when the model has no Conv2D layer or i is not an image of test.
func (r *TrainedModel) FeatureMaps(test *cifar.Split, i int) Charts {
	return Must(featureMaps(r.Model, test, i))
}

func featureMaps(m *keras.Model, test *cifar.Split, i int) (Charts, error) {
	if i < 0 || i >= test.Len() {
		return nil, fmt.Errorf("lab: FeatureMaps: image %d, the split has %d images", i, test.Len())
	}
	image := test.Slice(i, i+1)
	label := image.Labels[0]
	out := Charts{plots.Grid{
		Title:  fmt.Sprintf("Test image %d (%s)", i, cifar.ClassNames[label]),
		Images: [][]uint8{image.Image(0)},
		Titles: []string{cifar.ClassNames[label]},
	}.Chart()}
	x := Images(image)
	for k, l := range m.Spec().Layers {
		if l.Type != keras.LayerConv2D {
			continue
		}
		maps, err := m.PredictLayer(x, 1, k)
		if err != nil {
			return nil, err
		}
		shape := maps.Shape[1:]
		title := fmt.Sprintf("Feature maps of %s (layer %d, %dx%dx%d), the first %d", l.Name, k, shape[0], shape[1], shape[2], min(FeatureMapsShown, shape[2]))
		out = append(out, plots.FeatureMaps(title, maps.Data, shape, FeatureMapsShown))
	}
	if len(out) == 1 {
		return nil, errors.New("lab: FeatureMaps: the model has no Conv2D layer")
	}
	return out, nil
}
