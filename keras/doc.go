// Package keras is a small Keras-like model API on top of GoMLX.
//
// It covers what the classic Keras multilayer-perceptron and convolutional labs use: a Sequential
// stack of Flatten, Dense, Dropout and activation layers, BatchNormalization, AlphaDropout (with
// SELU and LeCun-normal kernels) and Normalization (adapted to the training data); Conv2D,
// MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D on [height, width, channels] images,
// with Keras's "valid" and "same" paddings and strides; the augmentation layers RandomFlip,
// RandomTranslation and RandomRotation (active only in training, fill "reflect", bilinear); the L2
// kernel regularizer on Dense and Conv2D; Compile with SGD, Adam, Nadam or RMSprop, optionally
// with a learning-rate schedule (ExponentialDecay, PiecewiseConstantDecay, CosineDecay), and a
// categorical, sparse categorical (both optionally from logits, FromLogits) or mean squared error
// loss; Fit with Keras's validation split, shuffling, progress lines and callbacks
// (EarlyStopping, ReduceLROnPlateau, OneCycleScheduler, TerminateOnNaN or your own); Evaluate,
// Predict and MCPredict (Monte Carlo Dropout); Save and Load. It knows nothing of a dataset or an
// application: package keras/runs adds memoized training on top of Fit (runs.FitOrLoad), and
// package lab the CIFAR-10 labs.
//
// A typical use (a convolutional network is written the same way, without Flatten first:
// keras.Conv2D(32, 3, keras.ReLU), keras.MaxPooling2D(2), ..., keras.Flatten(), keras.Dense(10,
// keras.Softmax)):
//
//	m, err := keras.Sequential([]int{32, 32, 3},
//		keras.Flatten(),
//		keras.Dense(512, keras.ReLU),
//		keras.Dropout(0.3),
//		keras.Dense(10, keras.Softmax),
//	)
//	err = m.Compile(keras.CompileConfig{
//		Optimizer: keras.Adam(0.001),
//		Loss:      keras.LossCategoricalCrossentropy,
//		Metrics:   []keras.Metric{keras.MetricAccuracy},
//	})
//	x := keras.NewPixelArray(pixels, -1, 32, 32, 3) // uint8 pixels fed as pixel/255
//	y := keras.OneHot(oneHot, 10)
//	hist, err := m.Fit(ctx, x, y, keras.FitConfig{Epochs: 50, BatchSize: 32, ValidationSplit: 0.2, Verbose: 2,
//		Callbacks: []keras.Callback{&keras.EarlyStopping{Monitor: "val_loss", Patience: 10, RestoreBestWeights: true}}})
//
// The numerics follow Keras 3 on TensorFlow: Glorot-uniform kernels and zero biases by default,
// Keras's optimizer formulas and defaults (ε = 1e-7), the cross-entropy of a softmax output computed
// from its logits (as Keras does on TensorFlow) and probabilities clipped to [1e-7, 1-1e-7] for
// other outputs, the last fraction of the samples as validation set, one shuffle per Fit kept for
// every epoch (what Keras does with its seed set), running sample-weighted epoch means for the
// training metrics, and the callbacks' messages word for word.
//
// Everything random (initial weights, shuffles, dropout, augmentation) comes from the model's seed,
// so the same seed gives the same History on the same backend; dropout masks and the augmentation
// layers' draws are a hash of the seed, the layer and the step, so that every GoMLX backend draws
// the same ones. Models run on the backend given
// with SetDefaultBackend or Model.SetBackend (package backend starts XLA or the pure-Go backend),
// and on GoMLX's pure-Go backend when none is given.
//
// Errors are returned, never panicked, and start with "keras: ". A Model is not safe for concurrent
// use; different models may be used from different goroutines.
package keras
