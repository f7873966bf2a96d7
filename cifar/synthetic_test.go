package cifar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/cifarlab/cifarlab/cifar/cifartest"
)

// SyntheticOptions configure WriteSynthetic.
type SyntheticOptions struct {
	TrainPerBatch int    // images in each of the 5 training batches (default 20)
	Test          int    // images in the test batch (default 20)
	Seed          uint64 // seed of the pixel noise and the labels
	// Python3Bytes writes the pixel data the way Python 3 pickles bytes with protocol 2
	// (_codecs.encode(text, 'latin1')) instead of Python 2's binary string, as the official
	// files do. Only for the python format.
	Python3Bytes bool
}

// WriteSynthetic writes a small synthetic copy of CIFAR-10 in the given format into
// dir/cifar-10-batches-py or dir/cifar-10-batches-bin, with the same file names and encoding as
// the official files, and returns the Dataset that loading it must give back. Its images are
// cifartest's (other packages' tests use cifartest.WriteBinary); the python version's pickles are
// written here, opcode for opcode like the official files, for cifar's own tests.
func WriteSynthetic(dir string, format Format, opts SyntheticOptions) (*Dataset, error) {
	if opts.TrainPerBatch == 0 {
		opts.TrainPerBatch = 20
	}
	if opts.Test == 0 {
		opts.Test = 20
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	folder := PythonFolder
	if format == Binary {
		folder = BinaryFolder
	}
	out := filepath.Join(dir, folder)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	trainFiles, testFile, metaFile := format.files()
	ds := &Dataset{ClassNames: ClassNames[:], Train: &Split{Name: "train"}, Test: &Split{Name: "test"}}
	write := func(name, batchLabel string, n int, split *Split) error {
		planar, labels := cifartest.Images(rng, n)
		var data []byte
		if format == Binary {
			data = cifartest.EncodeBinaryBatch(planar, labels)
		} else {
			data = EncodePythonBatch(batchLabel, planar, labels, opts.Python3Bytes)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return fmt.Errorf("cifar: %w", err)
		}
		hwc := make([]uint8, len(planar))
		rawBatch{count: n, pixels: planar, stride: ImageSize}.transposeInto(hwc)
		split.Images = append(split.Images, hwc...)
		split.Labels = append(split.Labels, labels...)
		return nil
	}
	for i, name := range trainFiles {
		if err := write(name, fmt.Sprintf("training batch %d of 5", i+1), opts.TrainPerBatch, ds.Train); err != nil {
			return nil, err
		}
	}
	if err := write(testFile, "testing batch 1 of 1", opts.Test, ds.Test); err != nil {
		return nil, err
	}
	meta := []byte(strings.Join(ClassNames[:], "\n") + "\n\n")
	if format == Python {
		meta = EncodePythonMeta(ClassNames[:])
	}
	if err := os.WriteFile(filepath.Join(out, metaFile), meta, 0o644); err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	return ds, nil
}

// EncodePythonBatch encodes images (channel-planar, ImageSize bytes each) and labels as a batch
// file of the python version, opcode for opcode like the official files (a protocol-2 pickle of a
// dict with batch_label, labels, data and an empty filenames list). With python3Bytes the pixel
// data is written the way Python 3's protocol 2 writes bytes.
func EncodePythonBatch(batchLabel string, planar, labels []uint8, python3Bytes bool) []byte {
	var p pickleWriter
	p.raw(0x80, 2, '}')
	p.put()
	p.raw('(')
	p.shortString("batch_label")
	p.put()
	p.shortString(batchLabel)
	p.put()
	p.shortString("labels")
	p.put()
	p.raw(']')
	p.put()
	for start := 0; start < len(labels); start += 1000 { // cPickle appends in chunks of 1000
		p.raw('(')
		for _, l := range labels[start:min(start+1000, len(labels))] {
			p.int(int(l))
		}
		p.raw('e')
	}
	p.shortString("data")
	p.put()
	p.global("numpy.core.multiarray", "_reconstruct")
	p.put()
	p.global("numpy", "ndarray")
	p.put()
	p.int(0)
	p.raw(0x85)
	p.shortString("b")
	p.raw(0x87, 'R')
	p.put()
	p.raw('(')
	p.int(1)
	p.int(len(labels))
	p.int(ImageSize)
	p.raw(0x86)
	p.global("numpy", "dtype")
	p.put()
	p.shortString("u1")
	p.int(0)
	p.int(1)
	p.raw(0x87, 'R')
	p.put()
	p.raw('(')
	p.int(3)
	p.shortString("|")
	p.raw('N', 'N', 'N')
	p.int(-1)
	p.int(-1)
	p.int(0)
	p.raw('t', 'b', 0x89)
	if python3Bytes {
		p.global("_codecs", "encode")
		var text []byte
		for _, b := range planar {
			text = utf8.AppendRune(text, rune(b))
		}
		p.raw('X')
		p.uint32(len(text))
		p.buf.Write(text)
		p.raw('X')
		p.uint32(len("latin1"))
		p.buf.WriteString("latin1")
		p.raw(0x86, 'R')
	} else {
		p.raw('T')
		p.uint32(len(planar))
		p.buf.Write(planar)
	}
	p.raw('t', 'b')
	p.shortString("filenames")
	p.put()
	p.raw(']')
	p.put()
	p.raw('u', '.')
	return p.buf.Bytes()
}

// EncodePythonMeta encodes batches.meta of the python version.
func EncodePythonMeta(names []string) []byte {
	var p pickleWriter
	p.raw(0x80, 2, '}')
	p.put()
	p.raw('(')
	p.shortString("num_cases_per_batch")
	p.put()
	p.int(10000)
	p.shortString("label_names")
	p.put()
	p.raw(']')
	p.put()
	p.raw('(')
	for _, n := range names {
		p.shortString(n)
		p.put()
	}
	p.raw('e')
	p.shortString("num_vis")
	p.put()
	p.int(ImageSize)
	p.raw('u', '.')
	return p.buf.Bytes()
}

// pickleWriter emits the pickle opcodes the CIFAR files use.
type pickleWriter struct {
	buf  bytes.Buffer
	memo int
}

func (p *pickleWriter) raw(b ...byte) { p.buf.Write(b) }

func (p *pickleWriter) put() {
	p.memo++
	if p.memo < 256 {
		p.raw('q', byte(p.memo))
		return
	}
	p.raw('r')
	p.uint32(p.memo)
}

func (p *pickleWriter) uint32(n int) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	p.buf.Write(b[:])
}

func (p *pickleWriter) shortString(s string) {
	p.raw('U', byte(len(s)))
	p.buf.WriteString(s)
}

func (p *pickleWriter) global(module, name string) {
	p.raw('c')
	p.buf.WriteString(module + "\n" + name + "\n")
}

func (p *pickleWriter) int(n int) {
	switch {
	case n >= 0 && n < 256:
		p.raw('K', byte(n))
	case n >= 0 && n < 65536:
		p.raw('M', byte(n), byte(n>>8))
	default:
		p.raw('J')
		p.uint32(n)
	}
}
