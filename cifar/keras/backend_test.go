package keras

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackendChoice checks the backend chosen for each GOMLX_BACKEND value: XLA requests and bad
// configurations fall back to the pure-Go backend with one explaining line, never a panic.
func TestBackendChoice(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []string
	}{
		{"", []string{`backend "go"`, `config "` + DefaultGoBackendConfig + `"`}},
		{"go", []string{`config "` + DefaultGoBackendConfig + `"`}},
		{"go:dotgeneral_large", []string{`config "dotgeneral_large"`}},
		{"xla", []string{`config "` + DefaultGoBackendConfig + `"`, `GOMLX_BACKEND="xla" asks for XLA, ` + map[bool]string{false: "which is not compiled into this program", true: "but it could not start"}[xlaCompiledIn]}},
		{"xla:cuda", []string{`GOMLX_BACKEND="xla:cuda" asks for XLA`}},
		{"stablehlo:cpu", []string{`asks for backend "stablehlo"`}},
		{"go:warp_speed", []string{`config "` + DefaultGoBackendConfig + `"`, `is not a valid Go backend configuration`}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			b, info, err := newBackend(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			if strings.Contains(info, "\n") || !containsAll(info, append([]string{"keras: using GoMLX backend"}, tc.want...)...) {
				t.Errorf("info %q, want it to contain %q on one line", info, tc.want)
			}
		})
	}
}

// TestNoXLAImport guards against importing GoMLX's XLA or default backends, whose plugin
// auto-installation needs the internet (and panics without it).
func TestNoXLAImport(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if name == "backend_xla.go" { // the one file built only with -tags xla
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(path, "github.com/gomlx/gomlx/backends/") && path != "github.com/gomlx/gomlx/backends/simplego" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
