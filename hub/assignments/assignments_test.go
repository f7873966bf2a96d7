package assignments_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
)

// notebook is the part of an .ipynb file that the tests read.
type notebook struct {
	Cells []struct {
		CellType string `json:"cell_type"`
		Source   source `json:"source"`
		Metadata struct {
			Nbgrader *struct {
				GradeID  string  `json:"grade_id"`
				Grade    bool    `json:"grade"`
				Solution bool    `json:"solution"`
				Locked   bool    `json:"locked"`
				Points   float64 `json:"points"`
			} `json:"nbgrader"`
		} `json:"metadata"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name     string `json:"name"`
			Language string `json:"language"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

// source is a cell's source, a string or a list of lines in the file.
type source string

func (s *source) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err == nil {
		*s = source(strings.Join(lines, ""))
		return nil
	}
	var one string
	err := json.Unmarshal(b, &one)
	*s = source(one)
	return err
}

func readNotebook(t *testing.T, path string) *notebook {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &nb
}

// assignments returns the source notebooks: hub/assignments/NAME/NAME.ipynb.
func assignments(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*/*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no assignment notebooks in hub/assignments (%v)", err)
	}
	return paths
}

// withoutComments drops a cell's comment lines and blank lines, and the indentation of the rest.
func withoutComments(src string) string {
	var kept []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "//") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// Every assignment is its lab notebook with the student's part cut out and tests added: each given
// (read-only) code cell is a code cell of notebooks/NAME.ipynb as it stands, the solution cell is
// one too (comments aside), every code cell is nbgrader's (a unique id), and the tests give points
// and hide part of their checks.
func TestAssignmentsFollowTheirLab(t *testing.T) {
	for _, path := range assignments(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".ipynb")
		t.Run(name, func(t *testing.T) {
			nb := readNotebook(t, path)
			lab := readNotebook(t, filepath.Join("..", "..", "notebooks", name+".ipynb"))
			if nb.Metadata.Kernelspec.Name != "gonb" || nb.Metadata.Kernelspec.Language != "go" {
				t.Errorf("kernel %+v, want gonb (language go: nbgrader picks the stub by it)", nb.Metadata.Kernelspec)
			}
			labCells := map[string]bool{}
			labBare := map[string]bool{}
			for _, c := range lab.Cells {
				if c.CellType == "code" {
					labCells[string(c.Source)] = true
					labBare[withoutComments(string(c.Source))] = true
				}
			}
			ids := map[string]bool{}
			var solutions, points int
			var hidden bool
			for i, c := range nb.Cells {
				g := c.Metadata.Nbgrader
				if c.CellType != "code" {
					continue
				}
				if g == nil || g.GradeID == "" {
					t.Errorf("code cell %d has no nbgrader grade_id", i)
					continue
				}
				if ids[g.GradeID] {
					t.Errorf("grade_id %q twice", g.GradeID)
				}
				ids[g.GradeID] = true
				src := string(c.Source)
				switch {
				case g.Solution:
					solutions++
					if !strings.Contains(src, "// BEGIN SOLUTION") || !strings.Contains(src, "// END SOLUTION") {
						t.Errorf("solution cell %q has no // BEGIN SOLUTION ... // END SOLUTION region", g.GradeID)
					}
					if !labBare[withoutComments(src)] {
						t.Errorf("solution cell %q is not a code cell of notebooks/%s.ipynb (comments aside):\n%s", g.GradeID, name, src)
					}
				case g.Grade:
					points += int(g.Points)
					if !g.Locked {
						t.Errorf("test cell %q is not locked", g.GradeID)
					}
					hidden = hidden || strings.Contains(src, "// BEGIN HIDDEN TESTS")
				default:
					if !g.Locked {
						t.Errorf("given cell %q is not locked (read-only)", g.GradeID)
					}
					if !labCells[src] {
						t.Errorf("given cell %q differs from every code cell of notebooks/%s.ipynb:\n%s", g.GradeID, name, src)
					}
				}
			}
			if solutions == 0 || points == 0 || !hidden {
				t.Errorf("%d solution cells, %d points of tests, hidden tests %v: want at least one of each", solutions, points, hidden)
			}
		})
	}
}

// goStub is the stub that hub/setup.sh configures nbgrader to put where a Go solution was.
func goStub(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*"go": '(.*)',$`).FindSubmatch(b)
	if m == nil {
		t.Fatal(`hub/setup.sh: no "go": '...' line in its ClearSolutions.code_stub`)
	}
	return strings.ReplaceAll(string(m[1]), `\\n`, "\n")
}

// clearSolutions replaces each solution region as nbgrader's ClearSolutions does: the lines from
// the one with BEGIN SOLUTION to the one with END SOLUTION become the stub, indented as the first.
func clearSolutions(src, stub string) string {
	var out []string
	in := false
	for _, line := range strings.Split(src, "\n") {
		switch {
		case strings.Contains(line, "BEGIN SOLUTION"):
			in = true
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			for _, s := range strings.Split(stub, "\n") {
				out = append(out, indent+s)
			}
		case strings.Contains(line, "END SOLUTION"):
			in = false
		case !in:
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// The program of every code cell compiles (go vet) as GoNB builds it after the cells before it,
// both in the teacher's source (the solution) and in the released notebook (nbgrader's stub in
// place of the solution), so that a student's first Run All fails only where the stub panics.
func TestAssignmentCellsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every cell (-short)")
	}
	stub := goStub(t)
	if !strings.Contains(stub, "panic(") {
		t.Fatalf("stub %q: want a panic, so that a function whose body it is compiles", stub)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(filepath.Join(root, "hub", "assignments"), "cellcheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pkgs []string
	for _, path := range assignments(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".ipynb")
		nb := readNotebook(t, path)
		for _, variant := range []string{"solution", "released"} {
			var mem gonbtest.Memory
			for i, c := range nb.Cells {
				if c.CellType != "code" {
					continue
				}
				src := string(c.Source)
				if variant == "released" {
					src = clearSolutions(src, stub)
				}
				prog, next, err := gonbtest.Program(gonbtest.Cell{File: fmt.Sprintf("%s-%s-cell%d", name, variant, i), Line: 1, Lines: strings.Split(src, "\n")}, mem)
				if err != nil {
					t.Fatalf("%s (%s) cell %d: %v", name, variant, i, err)
				}
				mem = next
				if !strings.Contains(src, "\n%%") && !strings.HasPrefix(src, "%%") {
					continue // declarations only: compiled with the cells after it (GoNB's goimports drops its unused imports)
				}
				pkg := filepath.Join(dir, fmt.Sprintf("%s_%s_%02d", name, variant, i))
				if err := os.Mkdir(pkg, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(prog), 0o644); err != nil {
					t.Fatal(err)
				}
				pkgs = append(pkgs, "./"+filepath.Join("hub", "assignments", filepath.Base(dir), filepath.Base(pkg)))
			}
		}
	}
	cmd := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go vet of the cells' programs: %v\n%s", err, out.String())
	}
}
