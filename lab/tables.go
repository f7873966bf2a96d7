package lab

import (
	"fmt"
	"strconv"

	"github.com/cifarlab/cifarlab/cifar"
	"github.com/cifarlab/cifarlab/report"
)

// DatasetSummary returns the table of the labs' first cells: for each split, the shape and dtype
// of the images, their pixel value range, the shape of the labels and their range, as Python
// prints them ("(50000, 32, 32, 3)").
func DatasetSummary(splits ...cifar.Description) *report.Table {
	t := &report.Table{Title: "Dataset", Header: []string{"Split", "Images shape", "dtype", "Pixel values", "Labels shape", "Label values"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft}}
	for _, d := range splits {
		s := d.ImageShape
		labels := "-"
		if d.MinLabel >= 0 {
			labels = fmt.Sprintf("%d..%d", d.MinLabel, d.MaxLabel)
		}
		t.AddRow(d.Name, fmt.Sprintf("(%d, %d, %d, %d)", s[0], s[1], s[2], s[3]), d.DType,
			fmt.Sprintf("%d..%d", d.MinValue, d.MaxValue), fmt.Sprintf("(%d,)", d.LabelShape[0]), labels)
	}
	return t
}

// ClassCounts returns the number of images of each class in each split: one row per class (its
// label and name), one column per split, and a total row. The class names are those of the first
// split (cifar.ClassNames when it has none).
func ClassCounts(splits ...cifar.Description) *report.Table {
	t := &report.Table{Title: "Images per class", Header: []string{"Label", "Class"}, Align: []report.Align{report.AlignRight, report.AlignLeft}}
	names := cifar.ClassNames
	if len(splits) > 0 && splits[0].ClassNames[0] != "" {
		names = splits[0].ClassNames
	}
	for _, d := range splits {
		t.Header = append(t.Header, d.Name)
	}
	totals := make([]int, len(splits))
	for c := range cifar.NumClasses {
		row := []string{strconv.Itoa(c), names[c]}
		for i, d := range splits {
			row = append(row, strconv.Itoa(d.ClassCounts[c]))
			totals[i] += d.ClassCounts[c]
		}
		t.AddRow(row...)
	}
	row := []string{"", "total"}
	for _, n := range totals {
		row = append(row, strconv.Itoa(n))
	}
	t.AddRow(row...)
	return t
}

// DatasetTables returns the summary and the class counts of the splits, shown together.
func DatasetTables(splits ...cifar.Description) report.Group {
	return report.Group{DatasetSummary(splits...), ClassCounts(splits...)}
}
