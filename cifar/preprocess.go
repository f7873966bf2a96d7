package cifar

import "fmt"

// Normalize converts pixel bytes to float32 in [0, 1] (value / 255), like the lab's
// x.astype('float32') / 255.0. The result has the same length and order as pixels.
func Normalize(pixels []uint8) []float32 {
	var table [256]float32
	for i := range table {
		table[i] = float32(i) / 255
	}
	out := make([]float32, len(pixels))
	for i, v := range pixels {
		out[i] = table[v]
	}
	return out
}

// oneHot encodes labels as len(labels) rows of numClasses float32 values with a 1 in the label's
// column, like keras.utils.to_categorical(labels, numClasses). A label outside [0, numClasses) is
// an error naming its index.
func oneHot(labels []uint8, numClasses int) ([]float32, error) {
	if numClasses <= 0 {
		return nil, fmt.Errorf("cifar: one-hot with %d classes, want at least 1", numClasses)
	}
	out := make([]float32, len(labels)*numClasses)
	for i, l := range labels {
		if int(l) >= numClasses {
			return nil, fmt.Errorf("cifar: one-hot: label %d of sample %d is outside 0..%d", l, i, numClasses-1)
		}
		out[i*numClasses+int(l)] = 1
	}
	return out, nil
}
