package keras

import (
	"github.com/gomlx/gomlx/core/tensors"
)

// batcher copies rows of a data set into the tensors of one batch. The tensors are fresh for every
// batch (the backend may keep them), the staging buffers are reused.
type batcher struct {
	x          Array
	y          Labels
	sampleSize int
	xbuf       []float32
	ybuf       []float32
	ibuf       []int32
}

func newBatcher(x Array, y Labels) *batcher {
	return &batcher{x: x, y: y, sampleSize: x.SampleSize()}
}

// inputs returns the tensor holding the samples idx, shaped [len(idx), sample shape...].
func (b *batcher) inputs(idx []int) *tensors.Tensor {
	n, size := len(idx), b.sampleSize
	b.xbuf = grow(b.xbuf, n*size)
	if contiguous(idx) {
		b.x.copyRows(b.xbuf, idx[0], n)
	} else {
		for i, row := range idx {
			b.x.copyRows(b.xbuf[i*size:(i+1)*size], row, 1)
		}
	}
	return tensors.FromFlatDataAndDimensions(b.xbuf, append([]int{n}, b.x.SampleShape()...)...)
}

// labels returns the tensor holding the labels of samples idx: int32 [len(idx)] for class ids,
// float32 [len(idx), classes] for one-hot rows.
func (b *batcher) labels(idx []int) *tensors.Tensor {
	n := len(idx)
	if b.y.Sparse() {
		b.ibuf = grow(b.ibuf, n)
		for i, row := range idx {
			b.ibuf[i] = b.y.Classes[row]
		}
		return tensors.FromFlatDataAndDimensions(b.ibuf, n)
	}
	c := b.y.NumClasses
	b.ybuf = grow(b.ybuf, n*c)
	for i, row := range idx {
		copy(b.ybuf[i*c:(i+1)*c], b.y.OneHot[row*c:(row+1)*c])
	}
	return tensors.FromFlatDataAndDimensions(b.ybuf, n, c)
}

// contiguous reports whether idx is a run of consecutive rows.
func contiguous(idx []int) bool {
	for i := 1; i < len(idx); i++ {
		if idx[i] != idx[i-1]+1 {
			return false
		}
	}
	return len(idx) > 0
}

// grow returns buf resized to n values, reallocating only when it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// rangeIndices returns [start, start+1, ..., end-1].
func rangeIndices(start, end int) []int {
	idx := make([]int, end-start)
	for i := range idx {
		idx[i] = start + i
	}
	return idx
}
