package cifar

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// This file holds a small, strict reader for the subset of Python's pickle format that the
// CIFAR-10 python batches use: protocol 2 (as written by Python 2's cPickle, and by Python 3 with
// protocol 2), a dict of byte strings, lists of small ints and one numpy uint8 array.
//
// Why not a general pickle library: the numpy payload is 30 MB per batch, and general readers copy
// it at least once into a Go string and then hand back generic objects that still have to be
// interpreted as numpy's reconstruct protocol. This reader returns the payload as a sub-slice of the
// file buffer (no copy), knows numpy's ndarray/dtype reconstruction, allows only the globals that
// such a file may reference, and reports every problem with the byte offset where it was found.

// pickleError describes malformed or unsupported pickle input at a byte offset.
type pickleError struct {
	Offset int
	Msg    string
}

func (e *pickleError) Error() string { return fmt.Sprintf("pickle: byte %d: %s", e.Offset, e.Msg) }

// pyTuple is a Python tuple.
type pyTuple []any

// pyList is a Python list. It is a pointer type so that memoized references see later appends,
// as they do in Python.
type pyList struct{ Items []any }

// pyDict is a Python dict whose keys are strings (the only kind CIFAR files use).
type pyDict map[string]any

// pyBytes is a Python 2 str or Python 3 bytes: raw bytes, a sub-slice of the input when possible.
type pyBytes []byte

// pyUnicode is a Python unicode string (UTF-8 in the pickle).
type pyUnicode string

// pyGlobal is a reference to a module-level Python object, as in "numpy.ndarray".
type pyGlobal string

// pyMark is the marker pushed by the MARK opcode.
type pyMark struct{}

// npDtype is a numpy dtype being reconstructed.
type npDtype struct {
	Str       string // as in "u1", "i8", "f4"
	ByteOrder string // "|", "<", ">" or "=" once BUILD has run
}

// npArray is a numpy ndarray being reconstructed.
type npArray struct {
	Shape   []int
	Dtype   *npDtype
	Fortran bool
	Data    []byte // raw element bytes
	built   bool
}

// Allowed globals: the reader refuses to reconstruct anything else.
const (
	globalReconstruct    = "numpy.core.multiarray._reconstruct"
	globalReconstructNew = "numpy._core.multiarray._reconstruct"
	globalNdarray        = "numpy.ndarray"
	globalDtype          = "numpy.dtype"
	globalCodecsEncode   = "_codecs.encode"
)

// maxMemo bounds memo indices, so that a corrupted index cannot make the reader allocate
// unbounded memory.
const maxMemo = 1 << 20

// unpickle decodes one pickle from data. Byte strings in the result alias data.
func unpickle(data []byte) (any, error) {
	u := unpickler{data: data}
	return u.run()
}

type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[int]any
}

func (u *unpickler) errorf(at int, format string, args ...any) error {
	return &pickleError{Offset: at, Msg: fmt.Sprintf(format, args...)}
}

// need returns the next n bytes, or an error naming what was being read.
func (u *unpickler) need(n int, what string) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, u.errorf(u.pos, "truncated: %s needs %d bytes, %d left in file", what, n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readLine(what string) (string, error) {
	start := u.pos
	for i := u.pos; i < len(u.data); i++ {
		if u.data[i] == '\n' {
			u.pos = i + 1
			return string(u.data[start:i]), nil
		}
	}
	return "", u.errorf(start, "truncated: %s has no terminating newline", what)
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop(at int, op string) (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errorf(at, "%s: stack is empty", op)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top(at int, op string) (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errorf(at, "%s: stack is empty", op)
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything down to the last MARK and returns it.
func (u *unpickler) popMark(at int, op string) ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf(at, "%s without a preceding MARK", op)
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) memoPut(at, idx int) error {
	if idx < 0 || idx >= maxMemo {
		return u.errorf(at, "memo index %d out of range", idx)
	}
	v, err := u.top(at, "PUT")
	if err != nil {
		return err
	}
	if u.memo == nil {
		u.memo = make(map[int]any)
	}
	u.memo[idx] = v
	return nil
}

func (u *unpickler) memoGet(at, idx int) error {
	v, ok := u.memo[idx]
	if !ok {
		return u.errorf(at, "GET of memo index %d that was never stored", idx)
	}
	u.push(v)
	return nil
}

func (u *unpickler) run() (any, error) {
	for {
		at := u.pos
		if u.pos >= len(u.data) {
			return nil, u.errorf(at, "truncated: file ends before the STOP opcode")
		}
		op := u.data[u.pos]
		u.pos++
		switch op {
		case 0x80: // PROTO
			b, err := u.need(1, "PROTO version")
			if err != nil {
				return nil, err
			}
			if b[0] < 2 || b[0] > 4 {
				return nil, u.errorf(at, "unsupported pickle protocol %d (want 2 to 4)", b[0])
			}
		case 0x95: // FRAME (protocol 4): just a length prefix for buffering.
			if _, err := u.need(8, "FRAME length"); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := u.pop(at, "STOP")
			if err != nil {
				return nil, err
			}
			if len(u.stack) != 0 || len(u.marks) != 0 {
				return nil, u.errorf(at, "STOP with %d values left on the stack", len(u.stack))
			}
			return v, nil
		case '}': // EMPTY_DICT
			u.push(pyDict{})
		case ']': // EMPTY_LIST
			u.push(&pyList{})
		case ')': // EMPTY_TUPLE
			u.push(pyTuple{})
		case '(': // MARK
			if len(u.marks) > 1000 {
				return nil, u.errorf(at, "MARKs nested too deeply")
			}
			u.marks = append(u.marks, len(u.stack))
		case 'N': // NONE
			u.push(nil)
		case 0x88: // NEWTRUE
			u.push(true)
		case 0x89: // NEWFALSE
			u.push(false)
		case 'K': // BININT1
			b, err := u.need(1, "BININT1")
			if err != nil {
				return nil, err
			}
			u.push(int64(b[0]))
		case 'M': // BININT2
			b, err := u.need(2, "BININT2")
			if err != nil {
				return nil, err
			}
			u.push(int64(binary.LittleEndian.Uint16(b)))
		case 'J': // BININT
			b, err := u.need(4, "BININT")
			if err != nil {
				return nil, err
			}
			u.push(int64(int32(binary.LittleEndian.Uint32(b))))
		case 0x8a: // LONG1
			b, err := u.need(1, "LONG1 length")
			if err != nil {
				return nil, err
			}
			n := int(b[0])
			if n > 8 {
				return nil, u.errorf(at, "LONG1 of %d bytes does not fit in 64 bits", n)
			}
			b, err = u.need(n, "LONG1 value")
			if err != nil {
				return nil, err
			}
			var v int64
			for i := n - 1; i >= 0; i-- {
				v = v<<8 | int64(b[i])
			}
			if n > 0 && n < 8 && b[n-1]&0x80 != 0 { // sign-extend
				v -= int64(1) << (8 * n)
			}
			u.push(v)
		case 'G': // BINFLOAT
			b, err := u.need(8, "BINFLOAT")
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'U', 'C': // SHORT_BINSTRING, SHORT_BINBYTES
			b, err := u.need(1, "SHORT_BINSTRING length")
			if err != nil {
				return nil, err
			}
			s, err := u.need(int(b[0]), "SHORT_BINSTRING payload")
			if err != nil {
				return nil, err
			}
			u.push(pyBytes(s))
		case 'T', 'B': // BINSTRING, BINBYTES
			b, err := u.need(4, "BINSTRING length")
			if err != nil {
				return nil, err
			}
			n := int64(int32(binary.LittleEndian.Uint32(b)))
			if op == 'B' {
				n = int64(binary.LittleEndian.Uint32(b))
			}
			if n < 0 {
				return nil, u.errorf(at, "BINSTRING with negative length %d", n)
			}
			s, err := u.need(int(n), "BINSTRING payload")
			if err != nil {
				return nil, err
			}
			u.push(pyBytes(s))
		case 0x8c, 'X': // SHORT_BINUNICODE, BINUNICODE
			var n int
			if op == 0x8c {
				b, err := u.need(1, "SHORT_BINUNICODE length")
				if err != nil {
					return nil, err
				}
				n = int(b[0])
			} else {
				b, err := u.need(4, "BINUNICODE length")
				if err != nil {
					return nil, err
				}
				n = int(binary.LittleEndian.Uint32(b))
			}
			s, err := u.need(n, "unicode payload")
			if err != nil {
				return nil, err
			}
			if !utf8.Valid(s) {
				return nil, u.errorf(at, "unicode string is not valid UTF-8")
			}
			u.push(pyUnicode(s))
		case 'q': // BINPUT
			b, err := u.need(1, "BINPUT index")
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(at, int(b[0])); err != nil {
				return nil, err
			}
		case 'r': // LONG_BINPUT
			b, err := u.need(4, "LONG_BINPUT index")
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(at, int(binary.LittleEndian.Uint32(b))); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := u.memoPut(at, len(u.memo)); err != nil {
				return nil, err
			}
		case 'h': // BINGET
			b, err := u.need(1, "BINGET index")
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(at, int(b[0])); err != nil {
				return nil, err
			}
		case 'j': // LONG_BINGET
			b, err := u.need(4, "LONG_BINGET index")
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(at, int(binary.LittleEndian.Uint32(b))); err != nil {
				return nil, err
			}
		case 'a': // APPEND
			v, err := u.pop(at, "APPEND")
			if err != nil {
				return nil, err
			}
			if err := u.appendTo(at, []any{v}); err != nil {
				return nil, err
			}
		case 'e': // APPENDS
			items, err := u.popMark(at, "APPENDS")
			if err != nil {
				return nil, err
			}
			if err := u.appendTo(at, items); err != nil {
				return nil, err
			}
		case 's': // SETITEM
			v, err := u.pop(at, "SETITEM")
			if err != nil {
				return nil, err
			}
			k, err := u.pop(at, "SETITEM")
			if err != nil {
				return nil, err
			}
			if err := u.setItems(at, []any{k, v}); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := u.popMark(at, "SETITEMS")
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, u.errorf(at, "SETITEMS with an odd number (%d) of keys and values", len(items))
			}
			if err := u.setItems(at, items); err != nil {
				return nil, err
			}
		case 't': // TUPLE
			items, err := u.popMark(at, "TUPLE")
			if err != nil {
				return nil, err
			}
			u.push(pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op-0x85) + 1
			items := make(pyTuple, n)
			for i := n - 1; i >= 0; i-- {
				v, err := u.pop(at, "TUPLE")
				if err != nil {
					return nil, err
				}
				items[i] = v
			}
			u.push(items)
		case 'c': // GLOBAL
			module, err := u.readLine("GLOBAL module")
			if err != nil {
				return nil, err
			}
			name, err := u.readLine("GLOBAL name")
			if err != nil {
				return nil, err
			}
			g := pyGlobal(module + "." + name)
			switch g {
			case globalReconstruct, globalReconstructNew, globalNdarray, globalDtype, globalCodecsEncode:
			default:
				return nil, u.errorf(at, "refusing to load global %q: a CIFAR-10 batch only references numpy arrays", string(g))
			}
			u.push(g)
		case 'R': // REDUCE
			args, err := u.pop(at, "REDUCE")
			if err != nil {
				return nil, err
			}
			fn, err := u.pop(at, "REDUCE")
			if err != nil {
				return nil, err
			}
			v, err := u.reduce(at, fn, args)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 'b': // BUILD
			state, err := u.pop(at, "BUILD")
			if err != nil {
				return nil, err
			}
			obj, err := u.top(at, "BUILD")
			if err != nil {
				return nil, err
			}
			if err := u.build(at, obj, state); err != nil {
				return nil, err
			}
		default:
			return nil, u.errorf(at, "unsupported pickle opcode 0x%02x (%q)", op, rune(op))
		}
	}
}

func (u *unpickler) appendTo(at int, items []any) error {
	v, err := u.top(at, "APPEND")
	if err != nil {
		return err
	}
	list, ok := v.(*pyList)
	if !ok {
		return u.errorf(at, "APPEND to a %s, want a list", pyTypeName(v))
	}
	list.Items = append(list.Items, items...)
	return nil
}

func (u *unpickler) setItems(at int, items []any) error {
	v, err := u.top(at, "SETITEMS")
	if err != nil {
		return err
	}
	dict, ok := v.(pyDict)
	if !ok {
		return u.errorf(at, "SETITEM on a %s, want a dict", pyTypeName(v))
	}
	for i := 0; i < len(items); i += 2 {
		key, ok := pyString(items[i])
		if !ok {
			return u.errorf(at, "dict key is a %s, want a string", pyTypeName(items[i]))
		}
		dict[key] = items[i+1]
	}
	return nil
}

// reduce applies one of the allowed callables.
func (u *unpickler) reduce(at int, fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, u.errorf(at, "REDUCE calls a %s, want an allowed global", pyTypeName(fn))
	}
	t, ok := args.(pyTuple)
	if !ok {
		return nil, u.errorf(at, "REDUCE arguments are a %s, want a tuple", pyTypeName(args))
	}
	switch g {
	case globalReconstruct, globalReconstructNew:
		// _reconstruct(numpy.ndarray, (0,), b'b') makes an empty array that BUILD fills in.
		if len(t) != 3 || t[0] != pyGlobal(globalNdarray) {
			return nil, u.errorf(at, "numpy _reconstruct with unexpected arguments")
		}
		return &npArray{}, nil
	case globalDtype:
		// dtype('u1', 0, 1)
		if len(t) != 3 {
			return nil, u.errorf(at, "numpy.dtype with %d arguments, want 3", len(t))
		}
		s, ok := pyString(t[0])
		if !ok {
			return nil, u.errorf(at, "numpy.dtype name is a %s, want a string", pyTypeName(t[0]))
		}
		return &npDtype{Str: s}, nil
	case globalCodecsEncode:
		// Python 3 writes bytes in protocol 2 as _codecs.encode(latin1_text, 'latin1').
		if len(t) != 2 {
			return nil, u.errorf(at, "_codecs.encode with %d arguments, want 2", len(t))
		}
		text, ok1 := t[0].(pyUnicode)
		enc, ok2 := pyString(t[1])
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, u.errorf(at, "_codecs.encode: only (text, 'latin1') is supported")
		}
		out := make([]byte, 0, len(text))
		for _, r := range string(text) {
			if r > 0xff {
				return nil, u.errorf(at, "_codecs.encode: character U+%04X is not latin-1", r)
			}
			out = append(out, byte(r))
		}
		return pyBytes(out), nil
	}
	return nil, u.errorf(at, "REDUCE of %s is not supported", string(g))
}

// build applies BUILD state to a numpy object under reconstruction.
func (u *unpickler) build(at int, obj, state any) error {
	switch o := obj.(type) {
	case *npDtype:
		// (3, '|', None, None, None, -1, -1, 0) or (4, '<', ...)
		t, ok := state.(pyTuple)
		if !ok || len(t) < 2 {
			return u.errorf(at, "numpy dtype state is a %s, want a tuple", pyTypeName(state))
		}
		bo, ok := pyString(t[1])
		if !ok {
			return u.errorf(at, "numpy dtype byte order is a %s, want a string", pyTypeName(t[1]))
		}
		o.ByteOrder = bo
		return nil
	case *npArray:
		// (version 1, shape, dtype, is_fortran, raw data)
		t, ok := state.(pyTuple)
		if !ok || len(t) != 5 {
			return u.errorf(at, "numpy array state is not a 5-tuple")
		}
		if o.built {
			return u.errorf(at, "numpy array built twice")
		}
		shapeT, ok := t[1].(pyTuple)
		if !ok {
			return u.errorf(at, "numpy array shape is a %s, want a tuple", pyTypeName(t[1]))
		}
		o.Shape = make([]int, len(shapeT))
		for i, d := range shapeT {
			n, ok := d.(int64)
			if !ok || n < 0 || n > math.MaxInt32 {
				return u.errorf(at, "numpy array dimension %d is %v, want a non-negative int", i, d)
			}
			o.Shape[i] = int(n)
		}
		dt, ok := t[2].(*npDtype)
		if !ok {
			return u.errorf(at, "numpy array dtype is a %s", pyTypeName(t[2]))
		}
		o.Dtype = dt
		fortran, ok := t[3].(bool)
		if !ok {
			return u.errorf(at, "numpy array is_fortran flag is a %s, want a bool", pyTypeName(t[3]))
		}
		o.Fortran = fortran
		raw, ok := t[4].(pyBytes)
		if !ok {
			return u.errorf(at, "numpy array data is a %s, want bytes (object arrays are not supported)", pyTypeName(t[4]))
		}
		o.Data = raw
		o.built = true
		return nil
	}
	return u.errorf(at, "BUILD on a %s is not supported", pyTypeName(obj))
}

// pyString returns the text of a byte string or unicode value.
func pyString(v any) (string, bool) {
	switch s := v.(type) {
	case pyBytes:
		return string(s), true
	case pyUnicode:
		return string(s), true
	}
	return "", false
}

// pyTypeName names the Python type of a decoded value for error messages.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case pyBytes:
		return "bytes"
	case pyUnicode:
		return "str"
	case *pyList:
		return "list"
	case pyTuple:
		return "tuple"
	case pyDict:
		return "dict"
	case pyGlobal:
		return "global " + string(v.(pyGlobal))
	case *npArray:
		return "numpy.ndarray"
	case *npDtype:
		return "numpy.dtype"
	}
	return fmt.Sprintf("%T", v)
}
