package cifartest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/cifar/cifartest"
)

// The copy loads with package cifar: the sizes asked for, the official class names, labels of
// every class, and pixels that differ between classes; the constants agree with cifar's.
func TestWriteBinaryLoads(t *testing.T) {
	if cifartest.ImageSize != cifar.ImageSize || cifartest.BinaryFolder != cifar.BinaryFolder || cifartest.ClassNames != cifar.ClassNames {
		t.Fatal("cifartest's constants differ from cifar's")
	}
	dir := t.TempDir()
	if err := cifartest.WriteBinary(dir, cifartest.Options{TrainPerBatch: 30, Test: 12, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	ds, err := cifar.Load(context.Background(), cifar.Options{Dir: dir, NoFlatCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 150 || ds.Test.Len() != 12 || !slices.Equal(ds.ClassNames, cifar.ClassNames[:]) {
		t.Fatalf("loaded %d/%d images, classes %v", ds.Train.Len(), ds.Test.Len(), ds.ClassNames)
	}
	seen := map[uint8]bool{}
	for _, l := range ds.Train.Labels {
		seen[l] = true
	}
	if len(seen) != cifar.NumClasses {
		t.Errorf("labels of %d classes in 150 images", len(seen))
	}
	again := t.TempDir()
	if err := cifartest.WriteBinary(again, cifartest.Options{TrainPerBatch: 30, Test: 12, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	ds2, err := cifar.Load(context.Background(), cifar.Options{Dir: again, NoFlatCache: true})
	if err != nil || !slices.Equal(ds2.Train.Images, ds.Train.Images) {
		t.Errorf("the same seed gave other images (%v)", err)
	}
}
