package settings

import (
	"strings"
	"testing"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"   ", false, false},
		{"1", true, false},
		{"true", true, false},
		{"TRUE", true, false},
		{"Yes", true, false},
		{"on", true, false},
		{" ON\n", true, false},
		{"0", false, false},
		{"false", false, false},
		{"False", false, false},
		{"no", false, false},
		{"NO", false, false},
		{"off", false, false},
		{"Off", false, false},
		{"2", false, true},
		{"y", false, true},
		{"enabled", false, true},
		{"nope", false, true},
		{"-1", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			got, err := ParseBool("CIFARLAB_X", tc.value)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseBool(%q) error %v, want error %v", tc.value, err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "CIFARLAB_X") || !strings.Contains(err.Error(), `"`+tc.value+`"`) {
					t.Errorf("error %q does not name the setting and its value", err)
				}
				return
			}
			if got != tc.want {
				t.Errorf("ParseBool(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestBoolReadsTheEnvironment(t *testing.T) {
	t.Setenv("CIFARLAB_SETTINGS_TEST", "off")
	if on, err := Bool("CIFARLAB_SETTINGS_TEST"); on || err != nil {
		t.Errorf("Bool = %v, %v; want false, nil", on, err)
	}
	t.Setenv("CIFARLAB_SETTINGS_TEST", "maybe")
	if _, err := Bool("CIFARLAB_SETTINGS_TEST"); err == nil {
		t.Error("Bool accepted maybe")
	}
}
