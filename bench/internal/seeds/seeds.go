// Package seeds parses the seed lists of the bench commands.
package seeds

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a comma-separated list of seeds and ranges A-B, for example "42,1-9".
func Parse(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(f), "-")
		lo, err1 := strconv.ParseInt(a, 10, 64)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.ParseInt(b, 10, 64)
		}
		if err1 != nil || err2 != nil || hi < lo {
			return nil, fmt.Errorf("-seeds %q: %q is neither a seed nor a range A-B with A <= B", s, f)
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}
