// Package keras is a small Keras-like model API on top of GoMLX, made for the cifarlab notebooks.
//
// It covers what the two CIFAR-10 labs use: a Sequential stack of Flatten, Dense, Dropout and
// Activation layers; Compile with SGD, Adam, Nadam or RMSprop and a categorical, sparse categorical or
// mean squared error loss; Fit with Keras's validation split, per-epoch shuffling, progress lines and
// callbacks (EarlyStopping, ReduceLROnPlateau, TerminateOnNaN or your own); Evaluate and Predict; and
// Save/Load plus memoized training, so that a GoNB cell that re-runs a finished training loads it
// instead of training again.
//
// A typical notebook cell:
//
//	m, err := keras.Sequential([]int{32, 32, 3},
//		keras.Flatten(),
//		keras.Dense(512, "relu"),
//		keras.Dropout(0.3),
//		keras.Dense(10, "softmax"),
//	)
//	err = m.Compile(keras.CompileConfig{
//		Optimizer: keras.Adam(0.001),
//		Loss:      "categorical_crossentropy",
//		Metrics:   []string{"accuracy"},
//	})
//	x := keras.NewPixelArray(train.Images, -1, 32, 32, 3) // pixel/255, a quarter of the memory of float32
//	y := keras.OneHot(train.OneHot(), 10)
//	hist, err := m.Fit(x, y, keras.FitConfig{Epochs: 50, BatchSize: 32, ValidationSplit: 0.2, Verbose: 2,
//		Callbacks: []keras.Callback{keras.NewEarlyStopping("val_loss", 10, true)}})
//
// The numerics follow Keras: Glorot-uniform kernels and zero biases by default, Keras's optimizer
// defaults (ε = 1e-7), probabilities clipped to [1e-7, 1-1e-7] in the cross-entropies, the last
// fraction of the samples as validation set, running sample-weighted epoch means for the training
// metrics, and the callbacks' messages word for word.
//
// Everything random (initial weights, shuffles, dropout) comes from the model's seed, so the same
// seed gives the same History on the same backend; dropout masks are a hash of the seed, so that
// XLA and the pure-Go backend draw the same ones. The package runs on GoMLX's XLA backend with the
// PJRT CPU plugin that kernel-setup/setup.sh installs, or on its pure-Go backend (see [Backend]);
// it never downloads a plugin.
//
// Errors are returned, never panicked, and start with "keras: ". A Model is not safe for concurrent
// use; different models may be used from different goroutines.
package keras
