package cifar

import (
	"testing"
)

// FuzzDecodePythonBatch feeds arbitrary bytes to the pickle reader and the batch decoder: they must
// never panic, and whatever they accept must be a consistent batch.
func FuzzDecodePythonBatch(f *testing.F) {
	planar := make([]uint8, 2*ImageSize)
	for i := range planar {
		planar[i] = uint8(i * 31)
	}
	good := EncodePythonBatch("training batch 1 of 5", planar, []uint8{3, 9}, false)
	f.Add(good)
	f.Add(EncodePythonBatch("b", planar, []uint8{0, 1}, true))
	f.Add(EncodePythonBatch("b", nil, nil, false))
	f.Add(EncodePythonMeta(ClassNames[:]))
	f.Add(good[:len(good)/2])
	f.Add(good[:40])
	f.Add([]byte{0x80, 2, '}', 'q', 1, '.'})
	f.Add([]byte{0x80, 2, ']', 'q', 1, '(', 'K', 1, 'h', 1, 'e', '.'})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodePythonBatch("fuzz", data)
		if err != nil {
			return
		}
		if len(b.pixels) != b.count*ImageSize || len(b.labels) != b.count || b.stride != ImageSize {
			t.Fatalf("inconsistent batch: count %d, %d pixel bytes, %d labels", b.count, len(b.pixels), len(b.labels))
		}
		for i, l := range b.labels {
			if l >= NumClasses {
				t.Fatalf("label %d of image %d accepted", l, i)
			}
		}
		dst := make([]uint8, b.count*ImageSize)
		b.transposeInto(dst)
	})
}

// FuzzDecodePythonMeta covers the batches.meta path of the reader.
func FuzzDecodePythonMeta(f *testing.F) {
	f.Add(EncodePythonMeta(ClassNames[:]))
	f.Add(EncodePythonMeta(ClassNames[:3]))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, err := decodePythonMeta("fuzz", data)
		if err == nil && len(names) != NumClasses {
			t.Fatalf("accepted %d class names", len(names))
		}
	})
}
