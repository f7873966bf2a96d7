//go:build !race

package keras

import "time"

// hangTimeout is how long TestRepeatedFitDoesNotHang waits (it normally takes a few seconds).
const hangTimeout = 90 * time.Second
