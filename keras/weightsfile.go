package keras

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// weightsMagic starts a weights file.
var weightsMagic = []byte("KERASGO\x01")

// writeWeights writes the layers' weights: the magic, the number of tensors, then per tensor its
// name ("LAYER/kernel", "LAYER/bias" for a Dense or Conv2D layer, "LAYER/" and Keras's name for
// the others), rank, dimensions and float32 values (all little-endian, counts as uint32), and
// finally the SHA-256 of everything before it.
func writeWeights(w io.Writer, layers []LayerWeights) error {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	if _, err := mw.Write(weightsMagic); err != nil {
		return err
	}
	put := func(v uint32) error { return binary.Write(mw, binary.LittleEndian, v) }
	var tensors []Weight
	for _, l := range layers {
		if l.Others != nil {
			for _, o := range l.Others {
				tensors = append(tensors, Weight{Name: l.Name + "/" + o.Name, Shape: o.Shape, Values: o.Values})
			}
			continue
		}
		tensors = append(tensors, Weight{Name: l.Name + "/kernel", Shape: l.KernelShape, Values: l.Kernel},
			Weight{Name: l.Name + "/bias", Shape: []int{len(l.Bias)}, Values: l.Bias})
	}
	if err := put(uint32(len(tensors))); err != nil {
		return err
	}
	for _, t := range tensors {
		if err := put(uint32(len(t.Name))); err != nil {
			return err
		}
		if _, err := io.WriteString(mw, t.Name); err != nil {
			return err
		}
		if err := put(uint32(len(t.Shape))); err != nil {
			return err
		}
		for _, d := range t.Shape {
			if err := put(uint32(d)); err != nil {
				return err
			}
		}
		if err := writeFloats(mw, t.Values); err != nil {
			return err
		}
	}
	_, err := w.Write(h.Sum(nil))
	return err
}

// readWeights reads what writeWeights wrote, checking the checksum. A Dense or Conv2D layer's
// tensors are a kernel then a bias; the consecutive tensors of any other layer go to its Others.
func readWeights(r io.Reader) ([]LayerWeights, error) {
	h := sha256.New()
	tr := io.TeeReader(r, h)
	magic := make([]byte, len(weightsMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || !bytes.Equal(magic, weightsMagic) {
		return nil, errors.New("not a weights file (bad magic)")
	}
	get := func() (uint32, error) {
		var v uint32
		err := binary.Read(tr, binary.LittleEndian, &v)
		return v, err
	}
	count, err := get()
	if err != nil {
		return nil, err
	}
	if count > 1<<16 {
		return nil, fmt.Errorf("bad tensor count %d", count)
	}
	var layers []LayerWeights
	for i := uint32(0); i < count; i++ {
		nameLen, err := get()
		if err != nil {
			return nil, err
		}
		if nameLen > 1<<12 {
			return nil, fmt.Errorf("tensor %d: bad name length %d", i, nameLen)
		}
		name := make([]byte, nameLen)
		if _, err := io.ReadFull(tr, name); err != nil {
			return nil, err
		}
		rank, err := get()
		if err != nil {
			return nil, err
		}
		if rank > 8 {
			return nil, fmt.Errorf("tensor %q: bad rank %d", name, rank)
		}
		dims := make([]int, rank)
		size := 1
		for j := range dims {
			d, err := get()
			if err != nil {
				return nil, err
			}
			dims[j] = int(d)
			size *= int(d)
			if size > 1<<31 {
				return nil, fmt.Errorf("tensor %q: too large", name)
			}
		}
		values, err := readFloats(tr, size)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		slash := bytes.LastIndexByte(name, '/')
		if slash < 0 {
			return nil, fmt.Errorf("tensor %d: bad name %q", i, name)
		}
		layerName, part := string(name[:slash]), string(name[slash+1:])
		var last *LayerWeights
		if len(layers) > 0 {
			last = &layers[len(layers)-1]
		}
		dense := last != nil && last.Others == nil && last.Name == layerName
		switch {
		case part == "kernel":
			layers = append(layers, LayerWeights{Name: layerName, Kernel: values, KernelShape: dims})
		case part == "bias" && dense && last.Bias == nil:
			last.Bias = values
		case part != "bias" && last != nil && last.Others != nil && last.Name == layerName:
			last.Others = append(last.Others, Weight{Name: part, Shape: dims, Values: values})
		case part != "bias":
			layers = append(layers, LayerWeights{Name: layerName, Others: []Weight{{Name: part, Shape: dims, Values: values}}})
		default:
			return nil, fmt.Errorf("unexpected tensor %q at position %d", name, i)
		}
	}
	for _, l := range layers {
		if l.Others == nil && l.Bias == nil {
			return nil, fmt.Errorf("layer %q has a kernel but no bias", l.Name)
		}
	}
	want := h.Sum(nil)
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(r, got); err != nil {
		return nil, fmt.Errorf("missing checksum: %w", err)
	}
	if !bytes.Equal(got, want) {
		return nil, errors.New("checksum mismatch (corrupted file)")
	}
	return layers, nil
}

// writeFloats writes float32 values little-endian, in chunks.
func writeFloats(w io.Writer, values []float32) error {
	buf := make([]byte, 0, 1<<16)
	for len(values) > 0 {
		n := min(len(values), cap(buf)/4)
		buf = buf[:4*n]
		for i, v := range values[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// readFloats reads n little-endian float32 values.
func readFloats(r io.Reader, n int) ([]float32, error) {
	values := make([]float32, n)
	buf := make([]byte, 1<<16)
	for done := 0; done < n; {
		k := min(n-done, len(buf)/4)
		if _, err := io.ReadFull(r, buf[:4*k]); err != nil {
			return nil, err
		}
		for i := range k {
			values[done+i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		done += k
	}
	return values, nil
}
