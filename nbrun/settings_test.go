package main

import (
	"bytes"
	"strings"
	"testing"
)

// CIFARLAB_QUICK means the same to nbrun as to package lab (settings.ParseBool): "no" and "off" are
// off, and a value neither understands stops nbrun before it runs anything.
func TestQuickFromEnvironment(t *testing.T) {
	tests := []struct {
		env      string
		args     []string
		want     bool
		wantCode int
	}{
		{"", nil, false, -1},
		{"0", nil, false, -1},
		{"no", nil, false, -1},
		{"off", nil, false, -1},
		{"OFF", nil, false, -1},
		{"false", nil, false, -1},
		{"1", nil, true, -1},
		{"yes", nil, true, -1},
		{"on", nil, true, -1},
		{"no", []string{"-quick"}, true, -1},
		{"yes", []string{"-quick=false"}, false, -1},
		{"nein", nil, false, 2},
		{"2", []string{"-quick"}, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.env+strings.Join(tc.args, ""), func(t *testing.T) {
			t.Setenv(envQuick, tc.env)
			var stderr bytes.Buffer
			o, _, code := parseArgs(append(tc.args, "x.ipynb"), &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d (%s)", code, tc.wantCode, stderr.String())
			}
			if code == 2 {
				if !strings.Contains(stderr.String(), envQuick+"=") {
					t.Errorf("the error does not name the setting: %q", stderr.String())
				}
				return
			}
			if o.Quick != tc.want {
				t.Errorf("%s=%q %v: quick %v, want %v", envQuick, tc.env, tc.args, o.Quick, tc.want)
			}
		})
	}
}
