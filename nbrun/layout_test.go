package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The lab notebooks use package lab's helpers instead of declaring their own: no notebook declares
// must, must2 or a trainModel of its own, none loads the data any other way than lab.LoadData, and
// none checks an error by hand with must(0, x.Display()).
func TestNotebooksDeclareNoHelpers(t *testing.T) {
	nbs, err := filepath.Glob("../notebooks/*.ipynb")
	if err != nil || len(nbs) < 4 {
		t.Fatalf("notebooks in ../notebooks: %v, %v", nbs, err)
	}
	forbidden := []struct {
		re  *regexp.Regexp
		why string
	}{
		{regexp.MustCompile(`(?m)^func (must|must2|check)\b`), "declares its own error helper (use lab.Check, lab.Must, lab.Must2)"},
		{regexp.MustCompile(`\bmust2?\(`), "calls a must helper of its own"},
		{regexp.MustCompile(`(?m)^func trainModel\b`), "declares its own training helper (use lab.Train, lab.Trained)"},
		{regexp.MustCompile(`cifar\.Load\(`), "loads the data with cifar.Load (use lab.LoadData)"},
		{regexp.MustCompile(`\.Display\(\)`), "calls Display by hand (use lab.Show)"},
		{regexp.MustCompile(`lab\.Predict\(`), "runs inference again (use run.Predictions, memoized)"},
	}
	for _, path := range nbs {
		nb, err := ReadNotebook(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range nb.Cells {
			if c.CellType != "code" {
				continue
			}
			src := string(c.Source)
			for _, f := range forbidden {
				if loc := f.re.FindStringIndex(src); loc != nil {
					line := strings.Count(src[:loc[0]], "\n") + 1
					t.Errorf("%s cell %d line %d %s: %q", filepath.Base(path), i, line, f.why, f.re.FindString(src))
				}
			}
		}
	}
}
