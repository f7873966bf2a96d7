package seeds

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int64
		wantErr string
	}{
		{in: "42", want: []int64{42}},
		{in: "42, 1-3", want: []int64{42, 1, 2, 3}},
		{in: "5-5", want: []int64{5}},
		{in: "3-1", wantErr: `"3-1" is neither a seed nor a range`},
		{in: "x", wantErr: `"x" is neither`},
		{in: "1,", wantErr: `"" is neither`},
	} {
		got, err := Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
