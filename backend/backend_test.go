package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackendChoice checks the backend chosen for each GOMLX_BACKEND value: with no PJRT plugin
// installed, XLA requests and bad configurations fall back to the pure-Go backend with one
// explaining line, never a download, a hang or a panic.
func TestBackendChoice(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere", "pjrt_c_api_cpu_plugin.so")
	t.Setenv(PJRTPluginEnv, missing)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir()) // go-xla's own search finds nothing either
	for _, tc := range []struct {
		env  string
		want []string
	}{
		{"", []string{`backend "go"`, simdInfo, "not installed at " + missing, "kernel-setup/setup.sh"}},
		{"go", []string{`backend "go"`, `GOMLX_BACKEND="go"`}},
		{"go:ops_sequential", []string{`config "ops_sequential"`}},
		{"xla", []string{`backend "go"`, `GOMLX_BACKEND="xla" asks for XLA`}},
		{"xla:cuda", []string{`backend "go"`, `GOMLX_BACKEND="xla:cuda" asks for XLA`}},
		{"onnx", []string{`backend "go"`, `asks for backend "onnx"`}},
		{"go:warp_speed", []string{`backend "go"`, `is not a valid Go backend configuration`}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			b, info, err := New(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			if strings.Contains(info, "\n") || !containsAll(info, append([]string{"cifarlab: using GoMLX backend"}, tc.want...)...) {
				t.Errorf("info %q, want it to contain %q on one line", info, tc.want)
			}
		})
	}
}

// TestPJRTPluginPath checks where the plugin is looked for and the messages when it is not there.
func TestPJRTPluginPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plugin.so")
	if err := os.WriteFile(file, []byte("not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env, xdg, want, wantErr string
	}{
		{name: "env", env: file, want: file},
		{name: "relative", env: "plugin.so", wantErr: "not an absolute path"},
		{name: "folder", env: dir, wantErr: "is a folder"},
		{name: "missing", env: filepath.Join(dir, "no.so"), wantErr: "not installed at " + filepath.Join(dir, "no.so")},
		{name: "xdg default", xdg: dir, wantErr: "not installed at " + filepath.Join(dir, "cifarlab", "pjrt", pjrtPluginFile)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(PJRTPluginEnv, tc.env)
			t.Setenv("XDG_DATA_HOME", tc.xdg)
			got, err := PJRTPluginPath()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("PJRTPluginPath() = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("PJRTPluginPath() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestBackendLineOncePerKernel checks that the backend line is printed once per GoNB kernel (every
// cell is a new process sharing GONB_TMP_DIR), and again when it changes.
func TestBackendLineOncePerKernel(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GONB_TMP_DIR", dir)
	lines := 0
	for i, info := range []string{"line A", "line A", "line B", "line B"} {
		var out strings.Builder
		printOnceTo(&out, info)
		if out.Len() > 0 {
			lines++
		}
		if want := map[int]bool{0: true, 2: true}[i]; (out.Len() > 0) != want {
			t.Errorf("cell %d (%q) printed %q; want a line: %v", i, info, out.String(), want)
		}
	}
	if lines != 2 {
		t.Errorf("%d lines printed for two distinct backends", lines)
	}
}

// containsAll reports whether s contains every part.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
