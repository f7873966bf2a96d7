package docsnippets

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
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

// decl is a top-level declaration of a cell, as GoNB keeps it for the cells after it.
type decl struct {
	keys []string // what it declares; a later cell's declaration of one of them replaces it
	text string   // its source, after a //line comment with its place on the page
}

// imp is an import of a cell.
type imp struct {
	name, path string // name: the name it is used by in the code
	text       string // "import (...)" with a //line comment
}

// memory is what GoNB remembers of the cells run so far: their imports and declarations.
type memory struct {
	imports []imp
	decls   []decl
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
		mem  memory
	)
	for _, s := range snips {
		switch s.kind {
		case program:
			jobs = append(jobs, job{s.where(), fmt.Sprintf("//line %s:%d:1\n%s\n", s.page, s.line, strings.Join(s.lines, "\n"))})
		case cell:
			if !s.continues {
				mem = memory{}
			}
			var src string
			var err error
			src, mem, err = cellProgram(s, mem)
			if err != nil {
				errs = append(errs, err)
				mem = memory{}
				continue
			}
			jobs = append(jobs, job{s.where(), src})
		}
	}
	return jobs, errors.Join(errs...)
}

// cellProgram returns the program GoNB builds for the cell s after the cells remembered in
// before, and what GoNB remembers after s.
func cellProgram(s snippet, before memory) (string, memory, error) {
	split := 0
	for i, l := range s.lines {
		if strings.TrimSpace(l) == "%%" {
			split = i
			break
		}
	}
	own, err := parseDecls(s.page, s.line, s.lines[:split])
	if err != nil {
		return "", memory{}, err
	}

	// What GoNB remembers after this cell: its own declarations replace earlier ones of a name.
	after := memory{imports: slices.Clone(own.imports)}
	ownImport := map[string]bool{}
	for _, im := range own.imports {
		ownImport[im.name], ownImport[im.path] = true, true
	}
	declared := map[string]bool{}
	for _, d := range own.decls {
		for _, k := range d.keys {
			declared[k] = true
		}
	}
	var inherited []imp
	for _, im := range before.imports {
		if !ownImport[im.name] && !ownImport[im.path] {
			inherited = append(inherited, im)
		}
	}
	after.imports = append(after.imports, inherited...)
	for _, d := range before.decls {
		replaced := false
		for _, k := range d.keys {
			replaced = replaced || declared[k]
		}
		if !replaced {
			after.decls = append(after.decls, d)
		}
	}
	after.decls = append(after.decls, own.decls...)

	body := fmt.Sprintf("func main() {\n//line %s:%d:1\n%s\n}\n", s.page, s.line+split+1, strings.Join(s.lines[split+1:], "\n"))
	assemble := func(imports []imp) string {
		var b strings.Builder
		b.WriteString("package main\n\n")
		for _, im := range imports {
			b.WriteString(im.text + "\n")
		}
		for _, d := range after.decls {
			b.WriteString(d.text + "\n\n")
		}
		b.WriteString(body)
		return b.String()
	}
	// The earlier cells' imports that this program uses (goimports would drop the others).
	used := usedNames(assemble(own.imports))
	imports := slices.Clone(own.imports)
	for _, im := range inherited {
		if used == nil || used[im.name] || im.name == "_" || im.name == "." {
			imports = append(imports, im)
		}
	}
	return assemble(imports), after, nil
}

// parseDecls parses the lines of a cell above %%, which start on the page's line first.
func parseDecls(page string, first int, lines []string) (memory, error) {
	src := fmt.Sprintf("package main\n//line %s:%d:1\n%s\n", page, first, strings.Join(lines, "\n"))
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return memory{}, fmt.Errorf("the declarations above %%%%: %w", err)
	}
	// text is the source from from to to, after a //line comment with its place on the page.
	text := func(from, to token.Pos) string {
		at := fset.Position(from)
		return fmt.Sprintf("//line %s:%d:%d\n%s", page, at.Line, at.Column, src[at.Offset:fset.Position(to).Offset])
	}
	var m memory
	for _, d := range f.Decls {
		from := d.Pos()
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Doc != nil {
				from = d.Doc.Pos()
			}
			key := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) > 0 {
				key = receiverType(d.Recv.List[0].Type) + "." + key
			}
			m.decls = append(m.decls, decl{keys: []string{key}, text: text(from, d.End())})
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				for _, spec := range d.Specs {
					spec := spec.(*ast.ImportSpec)
					path, err := strconv.Unquote(spec.Path.Value)
					if err != nil {
						return memory{}, err
					}
					name := packageName(path)
					if spec.Name != nil {
						name = spec.Name.Name
					}
					m.imports = append(m.imports, imp{name: name, path: path, text: "import (\n" + text(spec.Pos(), spec.End()) + "\n)"})
				}
				continue
			}
			if d.Doc != nil {
				from = d.Doc.Pos()
			}
			var keys []string
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					keys = append(keys, spec.Name.Name)
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						if n.Name != "_" {
							keys = append(keys, n.Name)
						}
					}
				}
			}
			m.decls = append(m.decls, decl{keys: keys, text: text(from, d.End())})
		}
	}
	return m, nil
}

// receiverType is the name of a method's receiver type: T for T, *T, T[P] and *T[P].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return fmt.Sprintf("%T", e)
		}
	}
}

// packageName is the name an import path is used by without an alias: its last element (without
// a major version suffix such as /v2).
func packageName(path string) string {
	parts := strings.Split(path, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2]
	}
	return last
}

// usedNames returns the names that src uses as the package of a selector (x in x.Y), or nil when
// src does not parse (the compiler then says why).
func usedNames(src string) map[string]bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	return used
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
