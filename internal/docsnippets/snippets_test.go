package docsnippets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarlab/cifarlab/internal/gonbtest"
)

// The pages whose Go snippets must compile, relative to the module root; a missing one is skipped.
var pages = []string{"README.md", "CONTRIBUTING.md", "MEASUREMENTS.md"}

// Marks for a ```go block: an HTML comment alone on the line before its fence (the rendered page
// does not show it).
const (
	// markFragment: the block is a piece of code, neither a program nor a notebook cell; it is not
	// compiled.
	markFragment = "<!-- fragment -->"
	// markContinues: the block is a notebook cell after the page's previous cell in the same
	// notebook: it sees that cell's declarations (and those it saw), as GoNB's cells do.
	markContinues = "<!-- continues -->"
)

// kind is what a ```go block is.
type kind int

const (
	fragment kind = iota // marked markFragment: not compiled
	program              // has "package main": compiled as it is
	cell                 // has a line "%%": a GoNB cell, compiled as GoNB builds it
)

// snippet is a ```go block of a Markdown page.
type snippet struct {
	page      string
	line      int      // the page's line of the block's first code line (1-based)
	lines     []string // the code, without the fence's indentation
	kind      kind
	continues bool // marked markContinues
}

func (s snippet) where() string { return fmt.Sprintf("%s:%d", s.page, s.line) }

// extract returns the ```go blocks of a page, or the errors of those that are not marked as they
// must be.
func extract(page, text string) ([]snippet, error) {
	var (
		out  []snippet
		errs []error
	)
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " \t")
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := lines[i][:len(lines[i])-len(trimmed)]
		fence := trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		info := strings.Fields(trimmed[len(fence):])
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if t := strings.TrimSpace(lines[j]); strings.HasPrefix(t, fence) && strings.Trim(t, "`") == "" {
				end = j
				break
			}
		}
		if end < 0 {
			errs = append(errs, fmt.Errorf("%s:%d: a %s block that is never closed", page, i+1, fence))
			break
		}
		if len(info) > 0 && info[0] == "go" {
			s := snippet{page: page, line: i + 2}
			for _, l := range lines[i+1 : end] {
				s.lines = append(s.lines, strings.TrimPrefix(l, indent))
			}
			mark := ""
			for k := i - 1; k >= 0; k-- {
				if t := strings.TrimSpace(lines[k]); t != "" {
					mark = t
					break
				}
			}
			if err := classify(&s, mark, out); err != nil {
				errs = append(errs, err)
			} else {
				out = append(out, s)
			}
		}
		i = end
	}
	return out, errors.Join(errs...)
}

// classify sets the kind of s from its code and the mark before it; before are the page's blocks
// above it.
func classify(s *snippet, mark string, before []snippet) error {
	for _, l := range s.lines {
		switch t := strings.TrimSpace(l); {
		case t == "%%":
			s.kind = cell
		case s.kind == fragment && strings.HasPrefix(t, "package main"):
			s.kind = program
		}
	}
	switch {
	case mark == markFragment:
		s.kind = fragment
	case s.kind == fragment:
		return fmt.Errorf("%s: a go block that is neither a notebook cell (a line %%%%) nor a program (package main): make it one, or mark it %s on the line before its fence",
			s.where(), markFragment)
	case mark == markContinues && s.kind != cell:
		return fmt.Errorf("%s: %s on a block that is not a notebook cell (no line %%%%)", s.where(), markContinues)
	case mark == markContinues:
		s.continues = true
		for _, b := range before {
			if b.kind == cell {
				return nil
			}
		}
		return fmt.Errorf("%s: %s, but the page has no notebook cell before it", s.where(), markContinues)
	}
	return nil
}

// job is a program to compile for one block.
type job struct {
	where string
	src   string
}

// programs returns the program to compile for each block that is a program or a cell. A cell
// becomes what GoNB builds: its lines above %% (imports and declarations) at the top level with
// those of the cells before it when it continues them (a later declaration of a name replaces
// the earlier one; an earlier import is kept when the program uses it), its lines after %% as the
// body of func main. Unlike GoNB, nothing runs goimports: a cell's own unused import is an error.
func programs(snips []snippet) ([]job, error) {
	var (
		jobs []job
		errs []error
		mem  gonbtest.Memory
	)
	for _, s := range snips {
		switch s.kind {
		case program:
			jobs = append(jobs, job{s.where(), fmt.Sprintf("//line %s:%d:1\n%s\n", s.page, s.line, strings.Join(s.lines, "\n"))})
		case cell:
			if !s.continues {
				mem = gonbtest.Memory{}
			}
			var src string
			var err error
			src, mem, err = gonbtest.Program(gonbtest.Cell{File: s.page, Line: s.line, Lines: s.lines}, mem)
			if err != nil {
				errs = append(errs, err)
				mem = gonbtest.Memory{}
				continue
			}
			jobs = append(jobs, job{s.where(), src})
		}
	}
	return jobs, errors.Join(errs...)
}

// moduleRoot returns the folder of the module's go.mod, above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// compile builds src as a program of the module at root (go build -o /dev/null main.go, run in
// root: a file named on the command line compiles in the module of the working directory).
func compile(t *testing.T, root string, j job) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(file, []byte(j.src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, file)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		var numbered strings.Builder
		for i, l := range strings.Split(j.src, "\n") {
			fmt.Fprintf(&numbered, "%4d  %s\n", i+1, l)
		}
		return fmt.Errorf("%s does not compile (%v):\n%s\nthe program built:\n%s", j.where, err, out, numbered.String())
	}
	return nil
}

// check compiles every program and cell of a page; it returns the errors, one per block that
// fails, and how many blocks were compiled.
func check(t *testing.T, root, page, text string) (compiled int, errs []error) {
	t.Helper()
	snips, err := extract(page, text)
	if err != nil {
		errs = append(errs, err)
	}
	jobs, err := programs(snips)
	if err != nil {
		errs = append(errs, err)
	}
	for _, j := range jobs {
		if err := compile(t, root, j); err != nil {
			errs = append(errs, err)
		}
	}
	return len(jobs), errs
}

// md turns three single quotes into a fence of three backquotes, which a raw string cannot hold.
func md(s string) string { return strings.ReplaceAll(s, "'''", "```") }

// The checker itself, on small pages: what must compile does, what must not fails, saying where.
func TestCheck(t *testing.T) {
	root := moduleRoot(t)
	cases := []struct {
		name     string
		page     string
		compiled int      // blocks compiled
		want     []string // in the error; none: no error
	}{
		{name: "cell", compiled: 1, page: md(`
'''go
import "fmt"

// greeting is shared with later cells.
func greeting() string { return "hello" }

%%
fmt.Println(greeting())
'''
`)},
		{name: "program", compiled: 1, page: md(`
'''go
package main

import "fmt"

func main() { fmt.Println("hello") }
'''
`)},
		{name: "other languages are not compiled", page: md(`
'''bash
x := 1
'''
'''
x := 1
'''
`)},
		{name: "marked fragment", page: md(`
<!-- fragment -->
'''go
x := 1
'''
`)},
		{name: "unmarked fragment", page: md(`
'''go
run := lab.Fit(newModel(), train, cfg)
'''
`), want: []string{"page.md:3: a go block that is neither a notebook cell", markFragment}},
		{name: "unused variable, on the page's line", compiled: 1, page: md(`
Text.

'''go
import "fmt"

%%
fmt.Println("x")
x := 1
'''
`), want: []string{"page.md:9:1: declared and not used: x"}},
		{name: "unused import", compiled: 1, page: md(`
'''go
import (
	"fmt"
	"os"
)

%%
fmt.Println()
'''
`), want: []string{`page.md:5:2: "os" imported and not used`}},
		{name: "program using an undefined name", compiled: 1, page: md(`
'''go
package main

import "fmt"

func main() {
	fmt.Println(cfg)
}
'''
`), want: []string{"page.md:8:14: undefined: cfg"}},
		{name: "program that does not parse", compiled: 1, page: md(`
'''go
package main

func main() {
'''
`), want: []string{"page.md:6:1: syntax error: unexpected EOF"}},
		{name: "continues: sees the earlier cells' declarations and imports", compiled: 3, page: md(`
'''go
import (
	"fmt"
	"strings"
)

func greeting() string { return "hello" }

%%
fmt.Println(strings.ToUpper(greeting()))
'''

<!-- continues -->
'''go
func shout() string { return greeting() + "!" }

%%
fmt.Println(shout())
'''

<!-- continues -->
'''go
%%
fmt.Println(greeting(), shout())
'''
`)},
		{name: "continues: an import carries over past a cell that does not use it", compiled: 3, page: md(`
'''go
import (
	"fmt"
	"strings"
)

%%
fmt.Println(strings.ToUpper("a"))
'''

<!-- continues -->
'''go
import "os"

%%
fmt.Println(os.Args[0])
'''

<!-- continues -->
'''go
%%
fmt.Println(strings.ToUpper("b"), os.Args[0])
'''
`)},
		{name: "without continues a cell sees nothing before it", compiled: 2, page: md(`
'''go
import "fmt"

func greeting() string { return "hello" }

%%
fmt.Println(greeting())
'''

'''go
%%
fmt.Println(greeting())
'''
`), want: []string{"page.md:13:1: undefined: fmt", "page.md:13:13: undefined: greeting"}},
		{name: "continues: a declaration replaces the earlier one of its name", compiled: 2, page: md(`
'''go
import "fmt"

func n() int { return 1 }

%%
fmt.Println(n() + 1)
'''

<!-- continues -->
'''go
func n() string { return "one" }

%%
fmt.Println(n() + "!")
'''
`)},
		{name: "continues: an error in a later cell", compiled: 2, page: md(`
'''go
import "fmt"

func n() int { return 1 }

%%
fmt.Println(n())
'''

<!-- continues -->
'''go
%%
fmt.Println(n() + "!")
'''
`), want: []string{"page.md:14:13: invalid operation"}},
		{name: "continues without a cell before it", page: md(`
<!-- continues -->
'''go
%%
x := 1
'''
`), want: []string{"page.md:4:", "no notebook cell before it"}},
		{name: "continues on a program", page: md(`
<!-- continues -->
'''go
package main

func main() {}
'''
`), want: []string{"page.md:4:", "not a notebook cell"}},
		{name: "a block never closed", page: md(`
'''go
package main
`), want: []string{"page.md:2: a ''' block that is never closed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compiled, errs := check(t, root, "page.md", c.page)
			if compiled != c.compiled {
				t.Errorf("%d blocks compiled, want %d", compiled, c.compiled)
			}
			all := errors.Join(errs...)
			if len(c.want) == 0 {
				if all != nil {
					t.Errorf("want no error, got:\n%v", all)
				}
				return
			}
			if all == nil {
				t.Fatalf("no error, want one with %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(all.Error(), md(w)) {
					t.Errorf("the error lacks %q:\n%v", md(w), all)
				}
			}
		})
	}
}

// The project's pages: every Go block a reader sees compiles as shown.
func TestPages(t *testing.T) {
	root := moduleRoot(t)
	for _, page := range pages {
		text, err := os.ReadFile(filepath.Join(root, page))
		if errors.Is(err, os.ErrNotExist) && page != "README.md" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Run(page, func(t *testing.T) {
			snips, err := extract(page, string(text))
			if err != nil {
				t.Error(err)
			}
			jobs, err := programs(snips)
			if err != nil {
				t.Error(err)
			}
			for _, j := range jobs {
				if err := compile(t, root, j); err != nil {
					t.Error(err)
				}
			}
			t.Logf("%d go blocks, %d compiled", len(snips), len(jobs))
		})
	}
}
