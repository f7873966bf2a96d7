package keras

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// FlipMode says which way RandomFlip flips, as Keras spells its mode= argument.
type FlipMode string

// The flip modes.
const (
	// Horizontal flips left and right (the width axis).
	Horizontal FlipMode = "horizontal"
	// Vertical flips top and bottom (the height axis).
	Vertical FlipMode = "vertical"
	// HorizontalAndVertical flips both ways at once, with one draw per image (Keras's default; an
	// empty mode means it too).
	HorizontalAndVertical FlipMode = "horizontal_and_vertical"
)

// RandomFlip flips each image of a training batch with probability ½, like
// keras.layers.RandomFlip(mode): mode [Horizontal], [Vertical] or [HorizontalAndVertical] (also
// ""; Keras's default). In inference (Evaluate, Predict) it passes its input through.
func RandomFlip(mode FlipMode) LayerSpec { return LayerSpec{Type: LayerRandomFlip, Mode: mode} }

// RandomTranslation shifts each image of a training batch by a random fraction of its height in
// [−heightFactor, heightFactor] and of its width in [−widthFactor, widthFactor], like
// keras.layers.RandomTranslation(height_factor, width_factor): Keras's fill_mode "reflect" and
// bilinear interpolation. Factors are in [−1, 1] (a negative one means its magnitude). In inference
// it passes its input through.
func RandomTranslation(heightFactor, widthFactor float64) LayerSpec {
	return LayerSpec{Type: LayerRandomTranslation, HeightFactor: heightFactor, WidthFactor: widthFactor}
}

// RandomRotation rotates each image of a training batch about its center by a random angle in
// [−factor·2π, factor·2π], like keras.layers.RandomRotation(factor): fill_mode "reflect", bilinear
// interpolation. The factor is in [−1, 1] (a negative one means its magnitude). In inference it
// passes its input through.
func RandomRotation(factor float64) LayerSpec {
	return LayerSpec{Type: LayerRandomRotation, Factor: factor}
}

// isAugmentation reports whether a layer type is one of the random preprocessing layers.
func isAugmentation(t LayerType) bool {
	return t == LayerRandomFlip || t == LayerRandomTranslation || t == LayerRandomRotation
}

// checkAugmentation validates a random preprocessing layer given its per-sample input shape.
func (l LayerSpec) checkAugmentation(field string, in []int) error {
	if len(in) != 3 {
		hint := ""
		if len(in) == 2 {
			hint = fmt.Sprintf("; for one channel, give the model input shape []int{%d, %d, 1}", in[0], in[1])
		}
		return fmt.Errorf("keras: %s: needs images of per-sample shape [height, width, channels], gets %v%s", field, in, hint)
	}
	factor := func(name string, v float64) error {
		if !(v >= -1 && v <= 1) {
			return fmt.Errorf("keras: %s: %s must be in [-1, 1] (a fraction of the image), got %g", field, name, v)
		}
		return nil
	}
	switch l.Type {
	case LayerRandomFlip:
		switch l.Mode {
		case Horizontal, Vertical, HorizontalAndVertical:
		default:
			return fmt.Errorf("keras: %s: Mode %q is unknown (want %q, %q or %q)", field, l.Mode, Horizontal, Vertical, HorizontalAndVertical)
		}
	case LayerRandomTranslation:
		if err := factor("HeightFactor", l.HeightFactor); err != nil {
			return err
		}
		return factor("WidthFactor", l.WidthFactor)
	case LayerRandomRotation:
		return factor("Factor", l.Factor)
	}
	return nil
}

// Draws per image of each random layer: RandomFlip one, RandomTranslation two (height, width),
// RandomRotation one.
func augmentationDraws(t LayerType) int {
	if t == LayerRandomTranslation {
		return 2
	}
	return 1
}

// augment applies a random preprocessing layer to a training batch x [B, H, W, C], with uniform
// draws in [0, 1) from the model's seed, the layer's index and key (the training step), so that a
// seeded Fit is reproducible on every backend. The result carries no gradient (the layers have no
// weights and sit at the input).
func augment(x *graph.Node, l LayerSpec, seed int64, layer int, key *graph.Node) *graph.Node {
	batch := x.Shape().Dimensions[0]
	u := hashUniform(x.Graph(), []int{batch, augmentationDraws(l.Type)}, seed, layer, key, nil)
	return graph.StopGradient(augmentWith(x, l, u))
}

// augmentWith applies a random preprocessing layer to x [B, H, W, C] with the given uniform draws
// u [B, k] in [0, 1), as Keras turns its own draws into a transformation (get_random_transformation
// of keras/src/layers/preprocessing/image_preprocessing/): a flip where u ≤ ½; a translation of
// (lower + u·(upper − lower))·size pixels; a rotation of (lower + u·(upper − lower))·360 degrees.
func augmentWith(x *graph.Node, l LayerSpec, u *graph.Node) *graph.Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, h, w := dims[0], dims[1], dims[2]
	col := func(j int) *graph.Node {
		return graph.Reshape(graph.Slice(u, graph.AxisRange(), graph.AxisElem(j)), batch)
	}
	scaled := func(v *graph.Node, factor, size float64) *graph.Node {
		lower, upper := -math.Abs(factor), math.Abs(factor)
		return graph.MulScalar(graph.AddScalar(graph.MulScalar(v, upper-lower), lower), size)
	}
	switch l.Type {
	case LayerRandomFlip:
		return flipImages(x, l.Mode, graph.LessOrEqual(col(0), graph.Scalar(g, dtypes.Float32, 0.5)))
	case LayerRandomTranslation:
		dy, dx := scaled(col(0), l.HeightFactor, float64(h)), scaled(col(1), l.WidthFactor, float64(w))
		return affineTransform(x, translationMatrix(dx, dy))
	case LayerRandomRotation:
		f := math.Abs(l.Factor)
		degrees := graph.AddScalar(graph.MulScalar(col(0), 720*f), -360*f) // Keras's uniform(−360f, 360f)
		return affineTransform(x, rotationMatrix(degrees, h, w))
	}
	return x
}

// flipImages flips the images of x [B, H, W, C] where flips [B] is true, as Keras's RandomFlip
// does with its draws.
func flipImages(x *graph.Node, mode FlipMode, flips *graph.Node) *graph.Node {
	if mode == Horizontal || mode == HorizontalAndVertical {
		x = graph.Where(flips, graph.Reverse(x, 2), x)
	}
	if mode == Vertical || mode == HorizontalAndVertical {
		x = graph.Where(flips, graph.Reverse(x, 1), x)
	}
	return x
}

// translationMatrix is Keras's RandomTranslation transform of shifts dx, dy [B] in pixels: the
// rows [a0 a1 a2 b0 b1 b2] = [1 0 −dx 0 1 −dy] of affineTransform.
func translationMatrix(dx, dy *graph.Node) [6]*graph.Node {
	one, zero := graph.OnesLike(dx), graph.ZerosLike(dx)
	return [6]*graph.Node{one, zero, graph.Neg(dx), zero, one, graph.Neg(dy)}
}

// rotationMatrix is Keras's RandomRotation transform of angles [B] in degrees about the center
// ((w−1)/2, (h−1)/2), as base_image_preprocessing_layer.py _compute_affine_matrix computes it.
func rotationMatrix(degrees *graph.Node, h, w int) [6]*graph.Node {
	angle := graph.MulScalar(degrees, math.Pi/180)
	cos, sin := graph.Cos(angle), graph.Sin(angle)
	cx, cy := 0.5*float64(w-1), 0.5*float64(h-1)
	a0, a1 := cos, graph.Neg(sin)
	b0, b1 := sin, cos
	center := func(c float64, p, q *graph.Node) *graph.Node { // c − cx·p − cy·q
		return graph.Sub(graph.Sub(graph.Scalar(degrees.Graph(), dtypes.Float32, c), graph.MulScalar(p, cx)), graph.MulScalar(q, cy))
	}
	return [6]*graph.Node{a0, a1, center(cx, a0, a1), b0, b1, center(cy, b0, b1)}
}

// affineTransform is keras.ops.image.affine_transform(x, m, interpolation="bilinear",
// fill_mode="reflect") on the JAX backend, for x [B, H, W, C] and the transform's rows m = [a0 a1 a2
// b0 b1 b2], each [B]: the output pixel (row y, column x) is the input interpolated at column
// a0·x + a1·y + a2 and row b0·x + b1·y + b2, positions outside the image reflected about its edge
// (d c b a | a b c d | d c b a), as jax.scipy.ndimage.map_coordinates(order=1, mode="reflect").
func affineTransform(x *graph.Node, m [6]*graph.Node) *graph.Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, h, w, c := dims[0], dims[1], dims[2], dims[3]
	grid := shapes.Make(dtypes.Float32, batch, h, w)
	ys, xs := graph.Iota(g, grid, 1), graph.Iota(g, grid, 2)
	coef := func(v *graph.Node) *graph.Node { return graph.Reshape(v, batch, 1, 1) }
	at := func(p, q, r *graph.Node) *graph.Node { // p·x + q·y + r
		return graph.Add(graph.Add(graph.Mul(coef(p), xs), graph.Mul(coef(q), ys)), coef(r))
	}
	colF, rowF := at(m[0], m[1], m[2]), at(m[3], m[4], m[5])
	row0, col0 := graph.Floor(rowF), graph.Floor(colF)
	wr1, wc1 := graph.Sub(rowF, row0), graph.Sub(colF, col0)
	wr0, wc0 := graph.OneMinus(wr1), graph.OneMinus(wc1)
	ri, ci := graph.ConvertDType(row0, dtypes.Int32), graph.ConvertDType(col0, dtypes.Int32)
	one := graph.Scalar(g, dtypes.Int32, int32(1))
	base := graph.MulScalar(graph.Iota(g, shapes.Make(dtypes.Int32, batch, h, w), 0), float64(h*w))
	flat := graph.Reshape(x, batch*h*w, c)
	pick := func(r, cc *graph.Node) *graph.Node { // [B, H, W, C]
		idx := graph.Add(base, graph.Add(graph.MulScalar(reflectIndex(r, h), float64(w)), reflectIndex(cc, w)))
		return graph.Gather(flat, graph.Reshape(idx, batch, h, w, 1))
	}
	expand := func(v *graph.Node) *graph.Node { return graph.Reshape(v, batch, h, w, 1) }
	ri1, ci1 := graph.Add(ri, one), graph.Add(ci, one)
	top := graph.Add(graph.Mul(expand(wc0), pick(ri, ci)), graph.Mul(expand(wc1), pick(ri, ci1)))
	bottom := graph.Add(graph.Mul(expand(wc0), pick(ri1, ci)), graph.Mul(expand(wc1), pick(ri1, ci1)))
	return graph.Add(graph.Mul(expand(wr0), top), graph.Mul(expand(wr1), bottom))
}

// reflectIndex maps an int32 index to [0, size) by reflection about the edges, including the edge
// pixel (−1 → 0, size → size−1), as JAX's _reflect_index_fixer: ⌊(|(2i+1+2size) mod 4size − 2size|
// − 1)/2⌋.
func reflectIndex(i *graph.Node, size int) *graph.Node {
	g := i.Graph()
	k := func(v int) *graph.Node { return graph.Scalar(g, dtypes.Int32, int32(v)) }
	period := 4 * size
	j := graph.Add(graph.MulScalar(i, 2), k(1+2*size))
	j = graph.Rem(graph.Add(graph.Rem(j, k(period)), k(period)), k(period)) // a modulo ≥ 0
	t := graph.Abs(graph.Sub(j, k(2*size)))
	return graph.Div(graph.Sub(t, k(1)), k(2)) // t ≥ 1 is odd: an exact halving
}
