// Package fastdot makes GoMLX's pure-Go backend (simplego v0.26.0) compute float32 matrix
// products with OpenBLAS's sgemm, loaded at run time, instead of its own scalar kernels, and its
// large float32 element-wise Add, Sub, Mul, Div and Sqrt with AVX2 loops (elementwise.go).
//
// simplego exports no way to replace an op's executor: its table of executors
// (simplego.nodeExecutors, filled by setNodeExecutor in each op's init) and the fields of its
// Node, Buffer and dotGeneralNodeData types are unexported. This package reaches them with
// go:linkname (the table and Backend.getBufferForShape) and with mirror structs for the fields it
// reads, and it checks those mirrors against the real types with reflection before doing anything:
// if GoMLX's layout ever differs (another version), Install reports why and leaves simplego as it
// is. Only rank-2 float32 DotGeneral nodes without batch axes (the products of dense layers and
// their gradients) go to sgemm; every other DotGeneral runs simplego's own executor.
//
// Without OpenBLAS (no libopenblas.so.0, or a build without cgo), Install returns an error and
// simplego's matrix products stay in use (the element-wise loops still apply), so the program
// still builds and runs, only slower. CIFAR_FASTDOT=off keeps simplego entirely as it is.
package fastdot

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cifarlab/cifarlab/cifar/keras/internal/fastdot/openblas"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// EnvVar disables the fast path when set to "0", "off" or "false", and otherwise may give OpenBLAS's
// thread count ("threads=N"; default: the number of CPUs, at most GOMAXPROCS).
const EnvVar = "CIFAR_FASTDOT"

type executorFn func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname sgNodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var sgNodeExecutors [backends.OpTypeLast]executorFn

//go:linkname sgGetBufferForShape github.com/gomlx/gomlx/backends/simplego.(*Backend).getBufferForShape
func sgGetBufferForShape(b *simplego.Backend, shape shapes.Shape) *simplego.Buffer

// Mirrors of simplego v0.26.0's unexported fields (checked by checkLayout).
type mirrorBuffer struct {
	shape shapes.Shape
	valid bool
	flat  any
}

type mirrorNode struct {
	builderIdx         int
	inputs             []*simplego.Node
	opType             backends.OpType
	shape              shapes.Shape
	builder            *simplego.Builder
	multiOutputsShapes []shapes.Shape
	multiOutputsNodes  []*simplego.Node
	isNodeSelectOutput bool
	selectOutputIdx    int
	data               any
}

type mirrorDotData struct {
	lhsContractingAxes, lhsBatchAxes                       []int
	rhsContractingAxes, rhsBatchAxes                       []int
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int
	lhsBlockedShape, rhsBlockedShape, outputBlockedShape   shapes.Shape
}

var (
	installOnce sync.Once
	installInfo string
	installErr  error
	stockExec   executorFn
	enabled     atomic.Bool
	dotDataType reflect.Type // the dynamic type of DotGeneral nodes' data, once seen and checked
	dotDataMu   sync.Mutex
	dotDataBad  atomic.Bool
	calls       atomic.Int64
	sgemmReady  bool
	vectorReady bool
)

// Install replaces simplego's DotGeneral executor (once per process) and returns a one-line
// description of the matrix-product path in use. On error simplego is left untouched and the
// description says why the stock kernels are used.
func Install() (string, error) {
	installOnce.Do(func() { installInfo, installErr = install() })
	return installInfo, installErr
}

func install() (string, error) {
	env := strings.ToLower(strings.TrimSpace(os.Getenv(EnvVar)))
	if env == "0" || env == "off" || env == "false" {
		return "matrix products: simplego's own kernels (" + EnvVar + "=" + env + ")", fmt.Errorf("fastdot: disabled by %s", EnvVar)
	}
	threads := min(runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if v, ok := strings.CutPrefix(env, "threads="); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", fmt.Errorf("fastdot: bad %s=%q", EnvVar, env)
		}
		threads = n
	}
	if err := checkLayout(); err != nil {
		return "matrix products and element-wise ops: simplego's own kernels (" + err.Error() + ")", err
	}
	vec := "element-wise ops: simplego's (no AVX2)"
	if installElementwise() {
		vec = "element-wise ops: AVX2"
	}
	enabled.Store(true)
	lib, err := openblas.Load(threads)
	if err != nil {
		return "matrix products: simplego's own kernels (" + err.Error() + "); " + vec, err
	}
	stockExec = sgNodeExecutors[backends.OpTypeDotGeneral]
	if stockExec == nil {
		return "matrix products: simplego's own kernels (no DotGeneral executor registered); " + vec,
			fmt.Errorf("fastdot: simplego has no DotGeneral executor registered")
	}
	sgNodeExecutors[backends.OpTypeDotGeneral] = execDotGeneral
	sgemmReady = true
	return fmt.Sprintf("matrix products: OpenBLAS sgemm (%s, %d threads); %s", lib, threads, vec), nil
}

// SetEnabled switches the fast path on or off (after Install) and returns the previous setting;
// with it off, DotGeneral and the element-wise ops run simplego's own kernels. Meant for tests and
// benchmarks comparing both; it must not change while a graph executes.
func SetEnabled(on bool) bool {
	return enabled.Swap(on)
}

// Available says, after Install, whether matrix products go to sgemm and whether element-wise ops
// use the vector loops.
func Available() (sgemm, vector bool) { return sgemmReady, vectorReady }

// Calls returns how many matrix products went through sgemm (for tests).
func Calls() int64 { return calls.Load() }

// checkLayout compares the mirror structs with simplego's types.
func checkLayout() error {
	if err := sameLayout(reflect.TypeFor[mirrorBuffer](), reflect.TypeFor[simplego.Buffer]()); err != nil {
		return err
	}
	return sameLayout(reflect.TypeFor[mirrorNode](), reflect.TypeFor[simplego.Node]())
}

func sameLayout(mirror, real reflect.Type) error {
	bad := func(what string) error {
		return fmt.Errorf("fastdot: %s does not have the layout of GoMLX v0.26.0 (%s)", real, what)
	}
	if mirror.Size() != real.Size() || mirror.NumField() != real.NumField() {
		return bad("size or field count")
	}
	for i := range mirror.NumField() {
		mf, rf := mirror.Field(i), real.Field(i)
		if mf.Name != rf.Name || mf.Offset != rf.Offset || mf.Type.Size() != rf.Type.Size() || mf.Type.Kind() != rf.Type.Kind() ||
			(mf.Type.Kind() != reflect.Pointer && mf.Type.Kind() != reflect.Slice && mf.Type != rf.Type) {
			return bad("field " + rf.Name)
		}
	}
	return nil
}

// dotData returns the node's DotGeneral parameters, or nil if their type is not the expected one.
func dotData(data any) *mirrorDotData {
	if dotDataBad.Load() || data == nil {
		return nil
	}
	t := reflect.TypeOf(data)
	dotDataMu.Lock()
	if dotDataType == nil {
		if t.Kind() != reflect.Pointer || t.Elem().Name() != "dotGeneralNodeData" ||
			sameLayout(reflect.TypeFor[mirrorDotData](), t.Elem()) != nil {
			dotDataBad.Store(true)
			dotDataMu.Unlock()
			return nil
		}
		dotDataType = t
	}
	ok := t == dotDataType
	dotDataMu.Unlock()
	if !ok {
		return nil
	}
	// An interface holding a pointer stores the pointer in its data word.
	return (*mirrorDotData)((*[2]unsafe.Pointer)(unsafe.Pointer(&data))[1])
}

// execDotGeneral is the DotGeneral executor installed in simplego.
func execDotGeneral(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	if !enabled.Load() || len(inputs) != 2 {
		return stockExec(backend, node, inputs, inputsOwned)
	}
	n := (*mirrorNode)(unsafe.Pointer(node))
	lhs := (*mirrorBuffer)(unsafe.Pointer(inputs[0]))
	rhs := (*mirrorBuffer)(unsafe.Pointer(inputs[1]))
	p := dotData(n.data)
	if p == nil || lhs.shape.DType != dtypes.Float32 || rhs.shape.DType != dtypes.Float32 ||
		lhs.shape.Rank() != 2 || rhs.shape.Rank() != 2 || len(p.lhsBatchAxes) != 0 || len(p.rhsBatchAxes) != 0 ||
		len(p.lhsContractingAxes) != 1 || len(p.rhsContractingAxes) != 1 || n.shape.Size() == 0 {
		return stockExec(backend, node, inputs, inputsOwned)
	}
	// lhs is [m,k] (contracting axis 1) or [k,m] (axis 0, read transposed); rhs is [k,n] (axis 0)
	// or [n,k] (axis 1, read transposed). The output is [1,m,n], row-major.
	ld, rd := lhs.shape.Dimensions, rhs.shape.Dimensions
	transA := p.lhsContractingAxes[0] == 0
	transB := p.rhsContractingAxes[0] == 1
	m, k := ld[0], ld[1]
	if transA {
		m, k = ld[1], ld[0]
	}
	cols := rd[1]
	if transB {
		cols = rd[0]
	}
	if n.shape.Size() != m*cols || p.contractingSize != k {
		return stockExec(backend, node, inputs, inputsOwned)
	}
	a, _ := lhs.flat.([]float32)
	b, _ := rhs.flat.([]float32)
	if len(a) < m*k || len(b) < k*cols {
		return stockExec(backend, node, inputs, inputsOwned)
	}
	outBuf := sgGetBufferForShape(backend, n.shape)
	if outBuf == nil {
		return stockExec(backend, node, inputs, inputsOwned)
	}
	out := (*mirrorBuffer)(unsafe.Pointer(outBuf))
	c := out.flat.([]float32)
	openblas.Sgemm(transA, transB, m, cols, k, a, ld[1], b, rd[1], c, cols)
	calls.Add(1)
	return outBuf, nil
}
