package gonbtest

import (
	"strings"
	"testing"
)

// Program carries declarations from cell to cell as GoNB does: a later declaration of a name
// replaces the earlier one, a cell without "%%" only declares, and an earlier cell's import stays
// only where the program uses it.
func TestProgram(t *testing.T) {
	cells := []string{
		"import (\n\t\"fmt\"\n\t\"strings\"\n)\n\nvar Epochs = 50\n\nfunc n() int { return 1 }",
		"func n() int { return 2 }\n\n%%\nfmt.Println(n(), Epochs)",
	}
	var mem Memory
	var src string
	for i, c := range cells {
		var err error
		src, mem, err = Program(Cell{File: "nb", Line: 1, Lines: strings.Split(c, "\n")}, mem)
		if err != nil {
			t.Fatalf("cell %d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		want string
		n    int
	}{
		{"func n() int { return 2 }", 1}, // replaced, not repeated
		{"func n() int { return 1 }", 0},
		{"var Epochs = 50", 1},
		{`"fmt"`, 1},
		{`"strings"`, 0}, // imported by the first cell, used by no one
		{"fmt.Println(n(), Epochs)", 1},
		{"func main() {", 1},
	} {
		if got := strings.Count(src, tc.want); got != tc.n {
			t.Errorf("%q appears %d times, want %d, in:\n%s", tc.want, got, tc.n, src)
		}
	}
	if _, _, err := Program(Cell{File: "nb", Line: 1, Lines: []string{"func broken( {", "%%"}}, Memory{}); err == nil {
		t.Error("a cell that does not parse gave no error")
	}
}
