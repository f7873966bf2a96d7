package report

import (
	"math"
	"strconv"
)

// fixed writes v with digits decimals (defaultDigits when digits <= 0), or missing when v is NaN.
func fixed(v float64, digits, defaultDigits int, missing string) string {
	if math.IsNaN(v) {
		return missing
	}
	if digits <= 0 {
		digits = defaultDigits
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}
