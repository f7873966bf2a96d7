package keras

import (
	"errors"
	"fmt"
)

// errorf returns an error with the package's "keras: " prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("keras: "+format, args...)
}

// catchPanic runs fn, turning a panic (GoMLX reports graph-building errors by panicking) into an
// error.
func catchPanic(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("keras: %w", e)
			} else {
				err = fmt.Errorf("keras: %v", r)
			}
		}
	}()
	return fn()
}

// errNotCompiled is returned by the methods that need a loss and an optimizer.
var errNotCompiled = errors.New("keras: the model is not compiled; call Compile first")
