//go:build race

package keras

import "time"

// hangTimeout is how long TestRepeatedFitDoesNotHang waits: the race detector slows the
// backend's kernels down about thirty times.
const hangTimeout = 10 * time.Minute
