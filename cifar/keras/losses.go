package keras

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// probabilityEpsilon is Keras's backend.epsilon(): the cross-entropies clip probabilities to
// [ε, 1−ε].
const probabilityEpsilon = 1e-7

// perSampleLoss builds the loss of every sample of a batch ([B]) from the model's output probs
// ([B, C]) and the labels: one-hot [B, C] float32, or class ids [B] int32 for the sparse loss.
// The formulas are Keras's (keras/src/backend/*/nn.py, from_logits=False).
func perSampleLoss(loss string, probs, labels *graph.Node) *graph.Node {
	switch loss {
	case LossMeanSquaredError:
		return graph.ReduceMean(graph.Square(graph.Sub(labels, probs)), -1)
	case LossSparseCategoricalCrossentropy:
		labels = graph.OneHot(labels, probs.Shape().Dimensions[1], probs.DType())
	}
	// Categorical cross-entropy: rescale to sum 1, clip to [ε, 1−ε], −Σ y·log(p).
	p := graph.Div(probs, graph.ReduceAndKeep(probs, graph.ReduceSum, -1))
	p = graph.ClipScalar(p, probabilityEpsilon, 1-probabilityEpsilon)
	return graph.Neg(graph.ReduceSum(graph.Mul(labels, graph.Log(p)), -1))
}

// correctCount builds the number of samples whose most probable class is the label's (as a
// float32 scalar): Keras's categorical_accuracy for one-hot labels and sparse_categorical_accuracy
// for class ids, summed instead of averaged.
func correctCount(probs, labels *graph.Node) *graph.Node {
	predicted := graph.ArgMax(probs, -1, dtypes.Int32)
	if labels.Rank() == 2 {
		labels = graph.ArgMax(labels, -1, dtypes.Int32)
	}
	hits := graph.ConvertDType(graph.Equal(predicted, labels), dtypes.Float32)
	return graph.ReduceAllSum(hits)
}
