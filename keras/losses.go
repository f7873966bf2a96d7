package keras

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// probabilityEpsilon is Keras's backend.epsilon(): the cross-entropies clip probabilities to
// [ε, 1−ε].
const probabilityEpsilon = 1e-7

// perSampleLossOf builds the loss of every sample of a batch ([B]) the way Keras 3 on TensorFlow
// does: when the model's output is a softmax's (logits, its input, is not nil), the
// cross-entropies are computed from the logits, −Σ y·log_softmax(logits), with neither the
// rescaling nor the clip to [ε, 1−ε]; Keras's softmax caches its logits on its output and its
// TensorFlow backend uses them (keras/src/backend/tensorflow/nn.py, _get_logits). So a confident
// wrong prediction costs its full −log p (not at most −log 1e-7 ≈ 16.1) and keeps its gradient
// p − y (the clip would make it 0). Other outputs, and the mean squared error, use perSampleLoss.
func perSampleLossOf(loss Loss, probs, logits, labels *graph.Node) *graph.Node {
	if logits == nil || loss == LossMeanSquaredError {
		return perSampleLoss(loss, probs, labels)
	}
	if loss == LossSparseCategoricalCrossentropy {
		labels = graph.OneHot(labels, logits.Shape().Dimensions[1], logits.DType())
	}
	return graph.Neg(graph.ReduceSum(graph.Mul(labels, graph.LogSoftmax(logits, -1)), -1))
}

// perSampleLoss builds the loss of every sample of a batch ([B]) from the model's output probs
// ([B, C]) and the labels: one-hot [B, C] float32, or class ids [B] int32 for the sparse loss.
// The formulas are Keras's for outputs that are not a softmax's (keras/src/backend/*/nn.py,
// from_logits=False): the probabilities are rescaled to sum 1 and clipped to [ε, 1−ε].
func perSampleLoss(loss Loss, probs, labels *graph.Node) *graph.Node {
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

// correctCount builds the number of samples whose most probable class (the largest probability, or
// logit with FromLogits) is the label's (as a float32 scalar): Keras's categorical_accuracy for
// one-hot labels and sparse_categorical_accuracy for class ids, summed instead of averaged.
func correctCount(probs, labels *graph.Node) *graph.Node {
	predicted := graph.ArgMax(probs, -1, dtypes.Int32)
	if labels.Rank() == 2 {
		labels = graph.ArgMax(labels, -1, dtypes.Int32)
	}
	hits := graph.ConvertDType(graph.Equal(predicted, labels), dtypes.Float32)
	return graph.ReduceAllSum(hits)
}
