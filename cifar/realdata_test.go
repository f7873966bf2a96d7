package cifar

import (
	"context"
	"os"
	"strings"
	"testing"
)

// realData loads the real CIFAR-10 from CIFAR10_DIR, or skips the test when it is not set.
func realData(t testing.TB) *Dataset {
	t.Helper()
	dir := os.Getenv(EnvDataDir)
	if dir == "" {
		t.Skipf("%s is not set: real-data checks skipped", EnvDataDir)
	}
	ds, err := Load(context.Background(), Options{Dir: dir, NoFlatCache: true})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestRealData checks facts of the real files (see ../shared/cifar10/README.md).
func TestRealData(t *testing.T) {
	ds := realData(t)
	if ds.Train.Len() != 50000 || ds.Test.Len() != 10000 {
		t.Fatalf("%d train and %d test images, want 50000 and 10000", ds.Train.Len(), ds.Test.Len())
	}
	checkLabels := func(s *Split, want []uint8) {
		for i, w := range want {
			if s.Labels[i] != w {
				t.Errorf("%s label %d = %d, want %d (first ten %v)", s.Name, i, s.Labels[i], w, s.Labels[:10])
			}
		}
	}
	if got := ds.Source.String(); !strings.Contains(got, " (python version), 60,000 images, ") {
		t.Errorf("Source.String() = %q, want the python version and 60,000 images", got)
	}
	checkLabels(ds.Train, []uint8{6, 9, 9, 4, 1, 1, 2, 7, 8, 3})
	checkLabels(ds.Test, []uint8{3, 8, 8, 0, 6, 6, 1, 6, 3, 1})
	for c, n := range ds.Test.ClassCounts() {
		if n != 1000 {
			t.Errorf("test class %s has %d images, want 1000", ClassNames[c], n)
		}
	}
	for c, n := range ds.Train.ClassCounts() {
		if n != 5000 {
			t.Errorf("train class %s has %d images, want 5000", ClassNames[c], n)
		}
	}
	pixels := []struct {
		split         *Split
		img, row, col int
		r, g, b       uint8
	}{
		{ds.Train, 0, 0, 0, 59, 62, 63},
		{ds.Test, 0, 0, 0, 158, 112, 49},
		{ds.Test, 0, 31, 31, 21, 67, 110},
	}
	for _, p := range pixels {
		if r, g, b := p.split.Pixel(p.img, p.row, p.col); r != p.r || g != p.g || b != p.b {
			t.Errorf("%s image %d pixel (%d,%d) = (%d,%d,%d), want (%d,%d,%d)", p.split.Name, p.img, p.row, p.col, r, g, b, p.r, p.g, p.b)
		}
	}
	for i, name := range ClassNames {
		if ds.ClassNames[i] != name {
			t.Errorf("batches.meta class %d = %q, want %q", i, ds.ClassNames[i], name)
		}
	}
	d := ds.Train.Describe()
	if d.MinValue != 0 || d.MaxValue != 255 || d.MinLabel != 0 || d.MaxLabel != 9 {
		t.Errorf("train description %+v", d)
	}
}
