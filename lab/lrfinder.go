package lab

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/keras"
)

// FindLearningRate runs the learning-rate finder of Géron's book on a compiled model and the
// training images (see keras.FindLearningRate): one epoch with the rate growing exponentially
// from cfg.MinRate to cfg.MaxRate, and the loss of every batch. The model is left as it was
// (weights, optimizer state), so it can be fitted afterwards as if the search had not run. Show
// the result with plots.LearningRateFinder(rates, losses). Unlike Fit it is not memoized: it
// takes about one epoch each time. In quick mode the images are quick mode's few.
func FindLearningRate(model *keras.Model, train *cifar.Split, cfg keras.LRFinderConfig) (rates, losses []float64) {
	compiled, ok := model.CompileConfig()
	if !ok {
		Check(errNotCompiled)
	}
	_, err := UseBackend()
	Check(err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rates, losses, err = keras.FindLearningRate(ctx, model, Images(train), labelsFor(train, compiled.Loss), cfg)
	Check(err)
	return rates, losses
}
