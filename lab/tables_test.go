package lab

import (
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/cifar"
)

func TestDatasetTables(t *testing.T) {
	train := &cifar.Split{Name: "train", Images: make([]uint8, 3*cifar.ImageSize), Labels: []uint8{0, 9, 9}}
	train.Images[5] = 255
	test := &cifar.Split{Name: "test", Images: make([]uint8, 1*cifar.ImageSize), Labels: []uint8{3}}
	got := DatasetTables(train.Describe(), test.Describe()).String()
	want := "Dataset\n" +
		"Split  Images shape    dtype  Pixel values  Labels shape  Label values\n" +
		"-----  --------------  -----  ------------  ------------  ------------\n" +
		"train  (3, 32, 32, 3)  uint8  0..255        (3,)          0..9\n" +
		"test   (1, 32, 32, 3)  uint8  0..0          (1,)          3..3\n" +
		"\n" +
		"Images per class\n" +
		"Label  Class       train  test\n" +
		"-----  ----------  -----  ----\n" +
		"    0  airplane        1     0\n" +
		"    1  automobile      0     0\n" +
		"    2  bird            0     0\n" +
		"    3  cat             0     1\n" +
		"    4  deer            0     0\n" +
		"    5  dog             0     0\n" +
		"    6  frog            0     0\n" +
		"    7  horse           0     0\n" +
		"    8  ship            0     0\n" +
		"    9  truck           2     0\n" +
		"       total           3     1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	md := ClassCounts(train.Describe(), test.Describe()).Markdown()
	if !strings.HasPrefix(md, "**Images per class**\n\n| Label | Class | train | test |\n|---:|:---|---:|---:|\n| 0 | airplane | 1 | 0 |\n") ||
		!strings.HasSuffix(md, "| | total | 3 | 1 |\n") {
		t.Errorf("markdown:\n%s", md)
	}
}
