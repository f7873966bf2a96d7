package keras

import (
	"bytes"
	"strings"
	"testing"
)

// CIFARLAB_RETRAIN is read with settings.ParseBool: "no" and "off" load the saved run, "on" trains
// again, and a value it does not understand makes Fit fail before training.
func TestRetrainSetting(t *testing.T) {
	x, y, _ := blobs(23, 64, 4, 4, 4, 2)
	runs := t.TempDir()
	fit := func() (*History, error) {
		m := smallModel(t, 5, LossCategoricalCrossentropy, Adam(0.01))
		return m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16, Output: &bytes.Buffer{}, RunsDir: runs})
	}
	t.Setenv(RetrainEnv, "")
	if _, err := fit(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value      string
		wantLoaded bool
		wantErr    bool
	}{
		{"", true, false},
		{"0", true, false},
		{"no", true, false},
		{"off", true, false},
		{"False", true, false},
		{"1", false, false},
		{"on", false, false},
		{"YES", false, false},
		{"bogus", false, true},
		{"2", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv(RetrainEnv, tc.value)
			h, err := fit()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), RetrainEnv) || h != nil {
					t.Fatalf("%s=%q: history %v, error %v; want an error naming the setting", RetrainEnv, tc.value, h, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Loaded != tc.wantLoaded {
				t.Errorf("%s=%q: loaded %v, want %v", RetrainEnv, tc.value, h.Loaded, tc.wantLoaded)
			}
		})
	}
}
