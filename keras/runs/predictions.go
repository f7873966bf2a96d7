package runs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/cifarlab/cifarlab/internal/atomicdir"
	"github.com/cifarlab/cifarlab/internal/scratch"
	"github.com/cifarlab/cifarlab/keras"
)

// predictionsDir is the folder beside the run folders that holds saved predictions.
const predictionsDir = "predictions"

// Predictions returns m's predictions on x, like m.Predict(x, batchSize), as rows of class
// probabilities. They are saved in the runs folder that holds r (predictions/) the first time,
// keyed by m's weights and by x, and read back afterwards: the evaluation cells after a training
// cell do not run the model again, and a model whose weights changed (retrained, another backend)
// never gets the predictions of the weights it had. Saved predictions that are damaged are
// computed again, with a line on m's output that says so; when they cannot be saved, they are
// returned all the same, with a line that says why.
func (r *Run) Predictions(m *keras.Model, x keras.Array, batchSize int) ([][]float32, error) {
	weights, err := weightsDigest(m)
	if err != nil {
		return nil, err
	}
	rows, cols := x.Len(), m.NumOutputs()
	path := filepath.Join(filepath.Dir(r.Dir), predictionsDir, fmt.Sprintf("%s-%s.bin", weights, arrayFingerprint(x)))
	probs, err := readProbs(path, rows, cols)
	switch {
	case err == nil:
		return probs, nil
	case !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(m.Output(), "runs: the saved predictions are damaged (%v); computing them again\n", err)
	}
	out, err := m.Predict(x, batchSize)
	if err != nil {
		return nil, err
	}
	probs = out.Rows()
	if err := writeProbs(path, probs); err != nil {
		fmt.Fprintf(m.Output(), "runs: could not save the predictions (they will be computed again next time): %v\n", err)
	}
	return probs, nil
}

// weightsDigest identifies a model's weights: the first 16 hex digits of weightsSHA256.
func weightsDigest(m *keras.Model) (string, error) {
	sum, err := weightsSHA256(m)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum[:8]), nil
}

// weightsSHA256 is the SHA-256 of every layer's kernel and bias (or other weights: BatchNormalization's), in order, as little-endian
// float32 (7 MB for lab 3: a few tens of milliseconds). The run key and the saved predictions are
// keyed by it.
func weightsSHA256(m *keras.Model) ([]byte, error) {
	weights, err := m.Weights()
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	h := sha256.New()
	for _, l := range weights {
		writeFloats(h, l.Kernel)
		writeFloats(h, l.Bias)
		for _, o := range l.Others {
			writeFloats(h, o.Values)
		}
	}
	return h.Sum(nil), nil
}

// The predictions file: a header, the probabilities as little-endian float32, row after row,
// and a CRC-32C of everything before it.
const probsMagic = "cifarlab-predictions/1\n"

// writeProbs saves probabilities atomically (a locked temporary renamed into place).
func writeProbs(path string, probs [][]float32) error {
	var b bytes.Buffer
	b.WriteString(probsMagic)
	cols := 0
	if len(probs) > 0 {
		cols = len(probs[0])
	}
	b.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(len(probs))), uint32(cols)))
	for _, row := range probs {
		for _, v := range row {
			b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
		}
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoliTable)))
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, _ = scratch.RemoveStale(dir, ".tmp-*")
	f, lock, err := scratch.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer lock.Release()
	tmp := f.Name()
	f.Close()
	if err := atomicdir.WriteFile(tmp, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readProbs reads probabilities saved by writeProbs, checking their shape and checksum.
func readProbs(path string, rows, cols int) ([][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	want := len(probsMagic) + 8 + 4*rows*cols + 4
	if len(data) != want || string(data[:len(probsMagic)]) != probsMagic {
		return nil, fmt.Errorf("%s: %d bytes, want %d for %d×%d", path, len(data), want, rows, cols)
	}
	body, sum := data[:want-4], binary.LittleEndian.Uint32(data[want-4:])
	if crc32.Checksum(body, castagnoliTable) != sum {
		return nil, errors.New(path + ": checksum mismatch")
	}
	head := body[len(probsMagic):]
	if int(binary.LittleEndian.Uint32(head)) != rows || int(binary.LittleEndian.Uint32(head[4:])) != cols {
		return nil, fmt.Errorf("%s: shape differs", path)
	}
	values := head[8:]
	probs := make([][]float32, rows)
	for i := range probs {
		probs[i] = make([]float32, cols)
		for j := range probs[i] {
			probs[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(values[4*(i*cols+j):]))
		}
	}
	return probs, nil
}
