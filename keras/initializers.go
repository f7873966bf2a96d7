package keras

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Weight initializers run on the host (plain Go, seeded PCG), so the initial weights depend only on
// the model's seed and not on the backend.

// heNormalStddevCorrection is the standard deviation of a unit normal truncated to [-2, 2]; Keras
// divides by it so that the truncated distribution keeps the intended variance.
const heNormalStddevCorrection = 0.87962566103423978

// Initializer names a weight initializer as Keras spells it (kernel_initializer="he_normal").
type Initializer string

// The initializers.
const (
	GlorotUniform Initializer = "glorot_uniform" // Dense's default kernel initializer
	GlorotNormal  Initializer = "glorot_normal"
	HeUniform     Initializer = "he_uniform"
	HeNormal      Initializer = "he_normal"
	LeCunUniform  Initializer = "lecun_uniform"
	LeCunNormal   Initializer = "lecun_normal" // for SELU networks
	Zeros         Initializer = "zeros"        // Dense's default bias initializer
	Ones          Initializer = "ones"
)

// initializers fill a weight tensor given its fan-in and fan-out.
var initializers = map[Initializer]func(rng *rand.Rand, values []float32, fanIn, fanOut int){
	Zeros: func(_ *rand.Rand, values []float32, _, _ int) { clear(values) },
	Ones: func(_ *rand.Rand, values []float32, _, _ int) {
		for i := range values {
			values[i] = 1
		}
	},
	GlorotUniform: func(rng *rand.Rand, values []float32, fanIn, fanOut int) {
		uniform(rng, values, math.Sqrt(6/float64(fanIn+fanOut)))
	},
	GlorotNormal: func(rng *rand.Rand, values []float32, fanIn, fanOut int) {
		truncatedNormal(rng, values, math.Sqrt(2/float64(fanIn+fanOut))/heNormalStddevCorrection)
	},
	HeUniform: func(rng *rand.Rand, values []float32, fanIn, _ int) {
		uniform(rng, values, math.Sqrt(6/float64(fanIn)))
	},
	HeNormal: func(rng *rand.Rand, values []float32, fanIn, _ int) {
		truncatedNormal(rng, values, math.Sqrt(2/float64(fanIn))/heNormalStddevCorrection)
	},
	LeCunUniform: func(rng *rand.Rand, values []float32, fanIn, _ int) {
		uniform(rng, values, math.Sqrt(3/float64(fanIn)))
	},
	LeCunNormal: func(rng *rand.Rand, values []float32, fanIn, _ int) {
		truncatedNormal(rng, values, math.Sqrt(1/float64(fanIn))/heNormalStddevCorrection)
	},
}

// checkInitializer reports whether name is a known initializer ("" means the layer's default).
func checkInitializer(name Initializer) error {
	if name == "" {
		return nil
	}
	if _, ok := initializers[name]; !ok {
		return fmt.Errorf("unknown initializer %q (want glorot_uniform, glorot_normal, he_normal, he_uniform, lecun_normal, lecun_uniform, zeros or ones)", name)
	}
	return nil
}

// initialize fills values with the named initializer for a tensor of the given shape ([in, out]
// dense kernels, [kh, kw, in, out] convolution kernels or [out] biases).
func initialize(name Initializer, rng *rand.Rand, values []float32, shape []int) error {
	fn, ok := initializers[name]
	if !ok {
		return checkInitializer(name)
	}
	fanIn, fanOut := computeFans(shape)
	fn(rng, values, fanIn, fanOut)
	return nil
}

// computeFans returns a weight's fan-in and fan-out as Keras's compute_fans does: a vector's
// length for both; [in, out] for a matrix; for a convolution kernel [kh, kw, ..., in, out], in and
// out times the receptive field kh·kw·....
func computeFans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	}
	receptive := 1
	for _, d := range shape[:len(shape)-2] {
		receptive *= d
	}
	return shape[len(shape)-2] * receptive, shape[len(shape)-1] * receptive
}

// uniform draws from U(-limit, limit).
func uniform(rng *rand.Rand, values []float32, limit float64) {
	for i := range values {
		values[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// truncatedNormal draws from N(0, stddev²) re-drawing values further than 2 stddev from 0, like
// keras.initializers.TruncatedNormal.
func truncatedNormal(rng *rand.Rand, values []float32, stddev float64) {
	for i := range values {
		for {
			z := rng.NormFloat64()
			if z >= -2 && z <= 2 {
				values[i] = float32(z * stddev)
				break
			}
		}
	}
}

// layerRNG is the random source for the weights of layer index i of a model with the given seed.
func layerRNG(seed int64, layer int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6b657261_00000000|uint64(layer)))
}
