package scratch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ErrInterrupted is the cause of the context that Interruptible cancels on a signal; the
// error it returns wraps it.
var ErrInterrupted = errors.New("interrupted")

// interruptSignals are the signals that Interruptible turns into a cancelled context.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Interruptible runs fn with a context derived from ctx that is cancelled, with a cause wrapping
// ErrInterrupted, when the process receives SIGINT, SIGTERM or SIGHUP, so that fn can stop and
// remove its temporaries. Once fn has returned, a signal that came is delivered again as if it
// had just arrived: it ends the program as it would have without Interruptible, unless the
// program handles it itself (signal.Notify), which then receives it. fn's error is returned; when a
// signal came and fn failed it wraps ErrInterrupted. When fn succeeded despite the signal (it
// finished its work, a save, before it looked at ctx), nil is returned: the work is done, and the
// signal is delivered all the same.
func Interruptible(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, interruptSignals...)
	done := make(chan struct{})
	var caught os.Signal
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case caught = <-sigs:
			cancel(fmt.Errorf("%w by %v", ErrInterrupted, caught))
		case <-done:
		}
	})
	err := fn(ctx)
	close(done)
	wg.Wait()
	signal.Stop(sigs)
	if caught == nil {
		select {
		case caught = <-sigs: // arrived as fn returned
		default:
			return err
		}
	}
	if err != nil && !errors.Is(err, ErrInterrupted) {
		err = errors.Join(err, fmt.Errorf("%w by %v", ErrInterrupted, caught))
	}
	raise(caught)
	return err
}
