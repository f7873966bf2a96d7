package keras

import (
	"fmt"
	"math"
)

// Array is a float32 tensor in row-major order whose first axis counts samples, e.g. images with
// Shape [N, 32, 32, 3] or class probabilities with Shape [N, 10].
//
// Images may instead be kept as their 8-bit pixels ([NewPixelArray]): the values are then
// pixel/255, converted batch by batch as they are fed to the model, to exactly the float32 values
// that x.astype('float32') / 255 gives. All 50,000 CIFAR-10 training images take 147 MiB that way
// instead of 586 MiB, which keeps a lab 3 training run under 1 GiB.
type Array struct {
	Data   []float32 // values, len(Data) == product of Shape; nil when Pixels holds them
	Shape  []int     // full shape, Shape[0] is the number of samples
	Pixels []uint8   // when Data is nil: the values as bytes, each meaning byte/255
}

// NewArray wraps data (without copying it) with the given shape. Like numpy's reshape, one
// dimension may be -1 and is then inferred from len(data): NewArray(pixels, -1, 32, 32, 3).
// A shape that does not fit the data is reported by the method that uses the Array.
func NewArray(data []float32, shape ...int) Array {
	return Array{Data: data, Shape: inferShape(len(data), shape)}
}

// NewPixelArray wraps 8-bit pixels (without copying them) as an Array whose values are
// pixel/255, in [0, 1]. Shape works as for [NewArray]: NewPixelArray(split.Images, -1, 32, 32, 3).
func NewPixelArray(pixels []uint8, shape ...int) Array {
	return Array{Pixels: pixels, Shape: inferShape(len(pixels), shape)}
}

// inferShape returns a copy of shape with its first -1 replaced by what makes it hold n values,
// when one does.
func inferShape(n int, shape []int) []int {
	shape = append([]int(nil), shape...)
	known, unknown := 1, -1
	for i, d := range shape {
		if d == -1 && unknown == -1 {
			unknown = i
			continue
		}
		known *= d
	}
	if unknown >= 0 && known > 0 && n%known == 0 {
		shape[unknown] = n / known
	}
	return shape
}

// pixelScale maps a byte to its value in a pixel Array: float32(b) / 255, the same float32 division
// as numpy's astype('float32') / 255 and cifar's Normalize.
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// Float32 returns the values as float32: Data itself, or for a pixel Array a new slice holding
// pixel/255.
func (a Array) Float32() []float32 {
	if a.Data != nil || a.Pixels == nil {
		return a.Data
	}
	out := make([]float32, len(a.Pixels))
	for i, p := range a.Pixels {
		out[i] = pixelScale[p]
	}
	return out
}

// copyRows writes the values of rows [start, start+n) into dst (n·SampleSize values).
func (a Array) copyRows(dst []float32, start, n int) {
	size := a.SampleSize()
	if a.Data != nil {
		copy(dst, a.Data[start*size:(start+n)*size])
		return
	}
	for i, p := range a.Pixels[start*size : (start+n)*size] {
		dst[i] = pixelScale[p]
	}
}

// Len is the number of samples (Shape[0]), or 0 for an Array without shape.
func (a Array) Len() int {
	if len(a.Shape) == 0 {
		return 0
	}
	return a.Shape[0]
}

// SampleShape is the shape of one sample (Shape without its first axis).
func (a Array) SampleShape() []int {
	if len(a.Shape) == 0 {
		return nil
	}
	return append([]int(nil), a.Shape[1:]...)
}

// SampleSize is the number of values per sample.
func (a Array) SampleSize() int { return product(a.SampleShape()) }

// Rows returns the Array as one slice per sample; the rows share memory with a.Data (for a pixel
// Array, with a converted copy).
func (a Array) Rows() [][]float32 {
	n, size := a.Len(), a.SampleSize()
	data := a.Float32()
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = data[i*size : (i+1)*size : (i+1)*size]
	}
	return rows
}

// ArgMax returns, per sample, the index of its largest value (the predicted class for an Array of
// class probabilities). Ties go to the lowest index.
func (a Array) ArgMax() []int {
	rows := a.Rows()
	out := make([]int, len(rows))
	for i, row := range rows {
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// validate checks that the shape is well-formed and matches the data; field names the argument in
// error messages.
func (a Array) validate(field string) error {
	if len(a.Shape) < 2 {
		return fmt.Errorf("keras: %s.Shape must be [samples, ...] with at least 2 axes, got %v", field, a.Shape)
	}
	for i, d := range a.Shape {
		if d <= 0 {
			return fmt.Errorf("keras: %s.Shape[%d] must be > 0, got shape %v", field, i, a.Shape)
		}
	}
	if a.Data != nil && a.Pixels != nil {
		return fmt.Errorf("keras: %s has both Data and Pixels set; use keras.NewArray or keras.NewPixelArray", field)
	}
	values, name := len(a.Data), "Data"
	if a.Data == nil && a.Pixels != nil {
		values, name = len(a.Pixels), "Pixels"
	}
	if p := product(a.Shape); p != values {
		return fmt.Errorf("keras: %s.Shape %v holds %d values but len(%s.%s) is %d", field, a.Shape, p, field, name, values)
	}
	return nil
}

// Labels are the targets of a classifier: either one-hot rows (for categorical_crossentropy and
// mean_squared_error) or class ids (for sparse_categorical_crossentropy). Build them with [OneHot]
// or [Classes].
type Labels struct {
	// OneHot holds [N, NumClasses] values when the labels are one-hot encoded.
	OneHot []float32
	// Classes holds N class ids when the labels are sparse.
	Classes []int32
	// NumClasses is the width of the one-hot rows; for sparse labels it may be 0 (the model's output
	// width is then used to check the ids).
	NumClasses int
}

// OneHot wraps one-hot encoded labels, numClasses values per sample, without copying them.
func OneHot(data []float32, numClasses int) Labels {
	return Labels{OneHot: data, NumClasses: numClasses}
}

// ClassID is any integer type usable as a class id.
type ClassID interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Classes converts integer class ids (for example CIFAR's []uint8 labels) into sparse Labels. Ids
// are checked against the model's number of classes when the labels are used.
func Classes[T ClassID](ids []T) Labels {
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id < 0 || uint64(id) > math.MaxInt32 {
			out[i] = -1 // reported as out of range when the labels are used
			continue
		}
		out[i] = int32(id)
	}
	return Labels{Classes: out}
}

// ToCategorical one-hot encodes integer class ids with numClasses columns, like Keras's
// keras.utils.to_categorical(y, num_classes); an id outside [0, numClasses) is an error.
func ToCategorical[T ClassID](ids []T, numClasses int) (Labels, error) {
	return Classes(ids).ToOneHot(numClasses)
}

// Sparse reports whether the labels are class ids rather than one-hot rows.
func (l Labels) Sparse() bool { return l.OneHot == nil && l.Classes != nil }

// Len is the number of labelled samples.
func (l Labels) Len() int {
	if l.Sparse() {
		return len(l.Classes)
	}
	if l.NumClasses <= 0 {
		return 0
	}
	return len(l.OneHot) / l.NumClasses
}

// ToOneHot returns the labels one-hot encoded with numClasses columns (a copy for sparse labels,
// the labels themselves when already one-hot).
func (l Labels) ToOneHot(numClasses int) (Labels, error) {
	if !l.Sparse() {
		return l, nil
	}
	if numClasses <= 0 {
		return Labels{}, fmt.Errorf("keras: ToOneHot: numClasses must be > 0, got %d", numClasses)
	}
	out := make([]float32, len(l.Classes)*numClasses)
	for i, c := range l.Classes {
		if c < 0 || int(c) >= numClasses {
			return Labels{}, fmt.Errorf("keras: ToOneHot: label %d is %d, outside [0, %d)", i, c, numClasses)
		}
		out[i*numClasses+int(c)] = 1
	}
	return Labels{OneHot: out, NumClasses: numClasses}, nil
}

// validate checks the labels against the model's number of classes and the number of samples.
func (l Labels) validate(field string, numClasses, samples int) error {
	switch {
	case l.OneHot != nil && l.Classes != nil:
		return fmt.Errorf("keras: %s has both OneHot and Classes set; use keras.OneHot or keras.Classes", field)
	case l.OneHot == nil && l.Classes == nil:
		return fmt.Errorf("keras: %s is empty; use keras.OneHot or keras.Classes", field)
	}
	if l.Sparse() {
		if len(l.Classes) != samples {
			return fmt.Errorf("keras: %s has %d labels but x has %d samples", field, len(l.Classes), samples)
		}
		for i, c := range l.Classes {
			if c < 0 || int(c) >= numClasses {
				return fmt.Errorf("keras: %s.Classes[%d] is %d, outside [0, %d) for a model with %d outputs", field, i, c, numClasses, numClasses)
			}
		}
		return nil
	}
	if l.NumClasses != numClasses {
		return fmt.Errorf("keras: %s.NumClasses is %d but the model has %d outputs", field, l.NumClasses, numClasses)
	}
	if len(l.OneHot) != samples*numClasses {
		return fmt.Errorf("keras: %s has %d one-hot values, want %d samples × %d classes = %d",
			field, len(l.OneHot), samples, numClasses, samples*numClasses)
	}
	return nil
}

// Dataset pairs inputs with labels, e.g. for FitConfig.ValidationData.
type Dataset struct {
	X Array
	Y Labels
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
