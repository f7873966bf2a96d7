package keras

import (
	"slices"
	"strings"
	"testing"
)

func TestReferenceModelParameterCounts(t *testing.T) {
	lab3, err := lab3Model(ReLU)
	if err != nil {
		t.Fatal(err)
	}
	ex2, err := exercise2Model()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		m     *Model
		total int
		rows  []string
	}{
		{"lab 3", lab3, 1_738_890, []string{
			"│ flatten (Flatten)               │ (None, 3072)           │             0 │",
			"│ dense (Dense)                   │ (None, 512)            │     1,573,376 │",
			"│ dropout (Dropout)               │ (None, 512)            │             0 │",
			"│ dense_1 (Dense)                 │ (None, 256)            │       131,328 │",
			"│ dropout_1 (Dropout)             │ (None, 256)            │             0 │",
			"│ dense_2 (Dense)                 │ (None, 128)            │        32,896 │",
			"│ dropout_2 (Dropout)             │ (None, 128)            │             0 │",
			"│ dense_3 (Dense)                 │ (None, 10)             │         1,290 │",
			" Total params: 1,738,890 (6.63 MB)",
			" Trainable params: 1,738,890 (6.63 MB)",
			" Non-trainable params: 0 (0.00 B)",
		}},
		{"exercise 2", ex2, 986_634, []string{
			"│ dense (Dense)                   │ (None, 256)            │       786,688 │",
			"│ dense_3 (Dense)                 │ (None, 256)            │        65,792 │",
			"│ dense_4 (Dense)                 │ (None, 10)             │         2,570 │",
			" Total params: 986,634 (3.76 MB)",
			" Trainable params: 986,634 (3.76 MB)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := tc.m.CountParams(); n != tc.total {
				t.Errorf("CountParams() = %d, want %d", n, tc.total)
			}
			s := tc.m.Summary()
			if !strings.HasPrefix(s, "Model: \"sequential\"\n┏") {
				t.Errorf("summary starts with %q", s[:30])
			}
			lines := strings.Split(s, "\n")
			for _, row := range tc.rows {
				if !containsLine(lines, row) {
					t.Errorf("summary lacks %q:\n%s", row, s)
				}
			}
		})
	}
	// The optimizer state does not count (GoMLX's own count would include it).
	if _, err := lab3.engineFor(); err != nil {
		t.Fatal(err)
	}
	if n := lab3.CountParams(); n != 1_738_890 {
		t.Errorf("CountParams() after building the optimizer = %d", n)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestLayerNames(t *testing.T) {
	m, err := Sequential([]int{8}, Dense(4, "relu").Named("dense_1"), Dense(4, "relu"), Dense(4, "relu"), Dropout(0.1), Dense(2, "softmax"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range m.Spec().Layers {
		names = append(names, l.Name)
	}
	// Keras skips names already taken.
	if got, want := strings.Join(names, " "), "dense_1 dense dense_2 dropout dense_3"; got != want {
		t.Errorf("layer names %q, want %q", got, want)
	}
}

func TestHelpers(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1738890: "1,738,890", -1234: "-1,234"} {
		if got := commaInt(n); got != want {
			t.Errorf("commaInt(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0.00 B", 1023: "1023.00 B", 6955560: "6.63 MB", 2048: "2.00 KB"} {
		if got := memorySize(n); got != want {
			t.Errorf("memorySize(%d) = %q, want %q", n, got, want)
		}
	}
	a := NewArray(make([]float32, 24), -1, 2, 3)
	if a.Len() != 4 || a.SampleSize() != 6 {
		t.Errorf("NewArray(-1, 2, 3) of 24 values: shape %v", a.Shape)
	}
	l, err := Classes([]uint8{2, 0}).ToOneHot(3)
	if err != nil || !slices.Equal(l.OneHot, []float32{0, 0, 1, 1, 0, 0}) || l.NumClasses != 3 {
		t.Errorf("ToOneHot = %v, %v", l.OneHot, err)
	}
	if _, err := Classes([]int{3}).ToOneHot(3); err == nil {
		t.Error("ToOneHot accepted class 3 of 3")
	}
}
