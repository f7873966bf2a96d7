package gonbtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// Cell is the source of one notebook cell, with the place of its first line (a Markdown page or a
// notebook, and a line there), which the programs' //line comments give to compile errors.
type Cell struct {
	File  string
	Line  int
	Lines []string
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

// Memory is what GoNB remembers of the cells run so far: their imports and declarations. The
// zero Memory is a new kernel.
type Memory struct {
	imports []imp
	decls   []decl
}

// Program returns the Go program that GoNB builds for the cell s after the cells remembered in
// before, and what GoNB remembers after s: the cell's lines above its "%%" line (imports and
// declarations) at the top level with the earlier cells' (a later declaration of a name replaces
// the earlier one; an earlier import is kept when the program uses it, as goimports would), and
// its lines after "%%" as the body of func main. Unlike GoNB, nothing runs goimports on the
// cell's own lines: its own unused import is an error, as in a Go file.
func Program(s Cell, before Memory) (string, Memory, error) {
	split := len(s.Lines) // a cell without "%%" only declares
	for i, l := range s.Lines {
		if strings.TrimSpace(l) == "%%" {
			split = i
			break
		}
	}
	own, err := parseDecls(s.File, s.Line, s.Lines[:split])
	if err != nil {
		return "", Memory{}, err
	}

	// What GoNB remembers after this cell: its own declarations replace earlier ones of a name.
	after := Memory{imports: slices.Clone(own.imports)}
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

	var main []string
	if split < len(s.Lines) {
		main = s.Lines[split+1:]
	}
	body := fmt.Sprintf("func main() {\n//line %s:%d:1\n%s\n}\n", s.File, s.Line+split+1, strings.Join(main, "\n"))
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
func parseDecls(page string, first int, lines []string) (Memory, error) {
	src := fmt.Sprintf("package main\n//line %s:%d:1\n%s\n", page, first, strings.Join(lines, "\n"))
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return Memory{}, fmt.Errorf("the declarations above %%%%: %w", err)
	}
	// text is the source from from to to, after a //line comment with its place on the page.
	text := func(from, to token.Pos) string {
		at := fset.Position(from)
		return fmt.Sprintf("//line %s:%d:%d\n%s", page, at.Line, at.Column, src[at.Offset:fset.Position(to).Offset])
	}
	var m Memory
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
						return Memory{}, err
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
