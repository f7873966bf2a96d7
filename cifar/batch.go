package cifar

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// rawBatch is one decoded batch file before transposition: count images stored channel-planar
// (1024 red, 1024 green, 1024 blue bytes) every stride bytes of pixels.
type rawBatch struct {
	count  int
	pixels []byte // aliases the file buffer
	stride int    // bytes from the start of one image to the next
	labels []uint8
}

// BatchError reports a problem in one batch file, with the byte offset where it was found when
// that is known (Offset < 0 otherwise).
type BatchError struct {
	File   string // path of the file
	Offset int64  // byte offset of the problem, or -1
	Err    error  // what is wrong
}

func (e *BatchError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("cifar: %s: byte %d: %v", e.File, e.Offset, e.Err)
	}
	return fmt.Sprintf("cifar: %s: %v", e.File, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

func batchErrorf(file string, offset int64, format string, args ...any) error {
	return &BatchError{File: file, Offset: offset, Err: fmt.Errorf(format, args...)}
}

// unpickleFile decodes a pickle and wraps its errors with the file name and offset.
func unpickleFile(file string, data []byte) (any, error) {
	v, err := unpickle(data)
	if err != nil {
		var pe *pickleError
		if errors.As(err, &pe) {
			return nil, &BatchError{File: file, Offset: int64(pe.Offset), Err: fmt.Errorf("corrupted or truncated pickle: %s", pe.Msg)}
		}
		return nil, &BatchError{File: file, Offset: -1, Err: err}
	}
	return v, nil
}

// decodePythonBatch decodes one pickled batch of the python version (data_batch_N, test_batch).
func decodePythonBatch(file string, data []byte) (rawBatch, error) {
	v, err := unpickleFile(file, data)
	if err != nil {
		return rawBatch{}, err
	}
	dict, ok := v.(pyDict)
	if !ok {
		return rawBatch{}, batchErrorf(file, -1, "pickle holds a %s, want a dict with keys 'data' and 'labels'", pyTypeName(v))
	}
	arr, ok := dict["data"].(*npArray)
	if !ok {
		return rawBatch{}, batchErrorf(file, -1, "key 'data' is %s, want a numpy uint8 array of shape (N, %d)", describeKey(dict, "data"), ImageSize)
	}
	if !arr.built || arr.Dtype == nil {
		return rawBatch{}, batchErrorf(file, -1, "numpy array 'data' was never filled in")
	}
	if arr.Dtype.Str != "u1" {
		return rawBatch{}, batchErrorf(file, -1, "array 'data' has dtype %q, want uint8 (\"u1\")", arr.Dtype.Str)
	}
	if len(arr.Shape) != 2 || arr.Shape[1] != ImageSize {
		return rawBatch{}, batchErrorf(file, -1, "array 'data' has shape %s, want (N, %d)", shapeString(arr.Shape), ImageSize)
	}
	if arr.Fortran {
		return rawBatch{}, batchErrorf(file, -1, "array 'data' is stored in Fortran order, want C order")
	}
	count := arr.Shape[0]
	if len(arr.Data) != count*ImageSize {
		return rawBatch{}, batchErrorf(file, -1, "array 'data' of shape %s holds %d bytes, want %d", shapeString(arr.Shape), len(arr.Data), count*ImageSize)
	}
	labels, err := decodeLabels(file, dict, count)
	if err != nil {
		return rawBatch{}, err
	}
	return rawBatch{count: count, pixels: arr.Data, stride: ImageSize, labels: labels}, nil
}

// decodeLabels reads the 'labels' entry: a list of ints (the official files) or an integer numpy
// array, with exactly count entries in [0, NumClasses).
func decodeLabels(file string, dict pyDict, count int) ([]uint8, error) {
	labels := make([]uint8, count)
	check := func(i int, v int64) error {
		if v < 0 || v >= NumClasses {
			return batchErrorf(file, -1, "label %d of image %d is outside 0..%d", v, i, NumClasses-1)
		}
		labels[i] = uint8(v)
		return nil
	}
	switch l := dict["labels"].(type) {
	case *pyList:
		if len(l.Items) != count {
			return nil, batchErrorf(file, -1, "%d labels for %d images", len(l.Items), count)
		}
		for i, item := range l.Items {
			v, ok := item.(int64)
			if !ok {
				return nil, batchErrorf(file, -1, "label of image %d is a %s, want an int", i, pyTypeName(item))
			}
			if err := check(i, v); err != nil {
				return nil, err
			}
		}
	case *npArray:
		size := map[string]int{"u1": 1, "i1": 1, "i2": 2, "u2": 2, "i4": 4, "u4": 4, "i8": 8, "u8": 8}[l.Dtype.Str]
		if size == 0 || len(l.Shape) != 1 || (size > 1 && l.Dtype.ByteOrder == ">") {
			return nil, batchErrorf(file, -1, "array 'labels' has dtype %q and shape %s, want a little-endian integer vector", l.Dtype.Str, shapeString(l.Shape))
		}
		if l.Shape[0] != count || len(l.Data) != count*size {
			return nil, batchErrorf(file, -1, "%d labels for %d images", l.Shape[0], count)
		}
		signed := strings.HasPrefix(l.Dtype.Str, "i")
		for i := range count {
			var u uint64
			for k := size - 1; k >= 0; k-- {
				u = u<<8 | uint64(l.Data[i*size+k])
			}
			v := int64(u)
			if signed && size < 8 && u&(1<<(8*size-1)) != 0 {
				v -= int64(1) << (8 * size)
			}
			if err := check(i, v); err != nil {
				return nil, err
			}
		}
	default:
		return nil, batchErrorf(file, -1, "key 'labels' is %s, want a list of %d ints", describeKey(dict, "labels"), count)
	}
	return labels, nil
}

// decodeBinaryBatch splits one file of the binary version into its 3073-byte records
// (1 label byte, then 3072 channel-planar pixel bytes).
func decodeBinaryBatch(file string, data []byte) (rawBatch, error) {
	const record = 1 + ImageSize
	if len(data) == 0 || len(data)%record != 0 {
		return rawBatch{}, batchErrorf(file, int64(len(data)/record*record),
			"file size %d is not a whole number of %d-byte records (1 label byte + %d pixel bytes); the file is truncated or not a CIFAR-10 binary batch",
			len(data), record, ImageSize)
	}
	count := len(data) / record
	labels := make([]uint8, count)
	for i := range count {
		l := data[i*record]
		if l >= NumClasses {
			return rawBatch{}, batchErrorf(file, int64(i*record), "label %d of image %d is outside 0..%d", l, i, NumClasses-1)
		}
		labels[i] = l
	}
	return rawBatch{count: count, pixels: data[1:], stride: record, labels: labels}, nil
}

// decodePythonMeta reads label_names from batches.meta.
func decodePythonMeta(file string, data []byte) ([]string, error) {
	v, err := unpickleFile(file, data)
	if err != nil {
		return nil, err
	}
	dict, ok := v.(pyDict)
	if !ok {
		return nil, batchErrorf(file, -1, "pickle holds a %s, want a dict with key 'label_names'", pyTypeName(v))
	}
	list, ok := dict["label_names"].(*pyList)
	if !ok {
		return nil, batchErrorf(file, -1, "key 'label_names' is %s, want a list of %d strings", describeKey(dict, "label_names"), NumClasses)
	}
	names := make([]string, 0, len(list.Items))
	for i, item := range list.Items {
		s, ok := pyString(item)
		if !ok {
			return nil, batchErrorf(file, -1, "label name %d is a %s, want a string", i, pyTypeName(item))
		}
		names = append(names, s)
	}
	return checkClassNames(file, names)
}

// decodeBinaryMeta reads batches.meta.txt: one class name per line.
func decodeBinaryMeta(file string, data []byte) ([]string, error) {
	var names []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		if s := strings.TrimSpace(string(line)); s != "" {
			names = append(names, s)
		}
	}
	return checkClassNames(file, names)
}

func checkClassNames(file string, names []string) ([]string, error) {
	if len(names) != NumClasses {
		return nil, batchErrorf(file, -1, "%d class names, want %d", len(names), NumClasses)
	}
	return names, nil
}

// transposeInto writes b's images into dst (count*ImageSize bytes) in height, width, channel
// order: dst[(row*32+col)*3+c] = planar[c*1024+row*32+col].
func (b rawBatch) transposeInto(dst []uint8) {
	const plane = Height * Width
	for i := range b.count {
		src := b.pixels[i*b.stride : i*b.stride+ImageSize]
		out := dst[i*ImageSize : (i+1)*ImageSize]
		r, g, bl := src[:plane], src[plane:2*plane], src[2*plane:3*plane]
		for p := range plane {
			o := out[p*3 : p*3+3 : p*3+3]
			o[0], o[1], o[2] = r[p], g[p], bl[p]
		}
	}
}

func describeKey(dict pyDict, key string) string {
	v, ok := dict[key]
	if !ok {
		return fmt.Sprintf("missing (keys present: %s)", strings.Join(slices.Sorted(maps.Keys(dict)), ", "))
	}
	return "a " + pyTypeName(v)
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
