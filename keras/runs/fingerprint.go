package runs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/cifarlab/cifarlab/keras"
)

// Data fingerprints use two hardware-accelerated CRC-32s (Castagnoli and IEEE, 64 bits together)
// instead of SHA-256: the data set is not adversarial, so a cryptographic hash buys nothing, and
// hashing a run's data (600 MB for CIFAR-10's training images as float32) with SHA-256 takes
// several times as long as both CRCs together, many times as long on CPUs without SHA
// instructions. The run key itself is still a SHA-256 of everything.

// fingerprint accumulates the two CRCs.
type fingerprint struct{ castagnoli, ieee uint32 }

var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)

// Write implements io.Writer.
func (f *fingerprint) Write(p []byte) (int, error) {
	f.castagnoli = crc32.Update(f.castagnoli, castagnoliTable, p)
	f.ieee = crc32.Update(f.ieee, crc32.IEEETable, p)
	return len(p), nil
}

// String is the fingerprint as 16 hex digits.
func (f *fingerprint) String() string { return fmt.Sprintf("%08x%08x", f.castagnoli, f.ieee) }

// arrayFingerprint fingerprints an Array's shape and values.
func arrayFingerprint(a keras.Array) string {
	f := &fingerprint{}
	fmt.Fprintf(f, "%v;", a.Shape)
	if a.Data == nil && a.Pixels != nil {
		// Pixels hash as bytes (4x less to hash); the prefix keeps them apart from float data.
		fmt.Fprint(f, "pixels/255;")
		_, _ = f.Write(a.Pixels)
		return f.String()
	}
	writeFloats(f, a.Data)
	return f.String()
}

// labelsFingerprint fingerprints labels, one-hot or sparse.
func labelsFingerprint(l keras.Labels) string {
	f := &fingerprint{}
	if l.Sparse() {
		fmt.Fprintf(f, "classes;%d;", len(l.Classes))
		buf := make([]byte, 4*len(l.Classes))
		for i, c := range l.Classes {
			binary.LittleEndian.PutUint32(buf[4*i:], uint32(c))
		}
		_, _ = f.Write(buf)
	} else {
		fmt.Fprintf(f, "onehot;%d;", l.NumClasses)
		writeFloats(f, l.OneHot)
	}
	return f.String()
}

// writeFloats writes values as little-endian float32 to a hash (which never fails), in chunks.
func writeFloats(w io.Writer, values []float32) {
	buf := make([]byte, 0, 1<<16)
	for len(values) > 0 {
		n := min(len(values), cap(buf)/4)
		buf = buf[:0]
		for _, v := range values[:n] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		_, _ = w.Write(buf)
		values = values[n:]
	}
}
