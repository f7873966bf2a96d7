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
	t.Setenv(EnvPJRTPlugin, missing)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir()) // go-xla's own search finds nothing either
	unknown := []string{"Backend: pure Go (", "names no backend of this program", "falls back to pure Go",
		`valid values: "" (XLA when its plugin is installed, else pure Go), "xla", "xla:cuda", "xla:/abs/plugin.so", "go", "go:<config>"`}
	for _, tc := range []struct {
		env      string
		want     []string
		fallback bool // the pure-Go backend runs instead of the one wanted
	}{
		{"", []string{"Backend: pure Go (" + simdInfo + "; ", "not installed at " + missing, "kernel-setup/setup.sh"}, true},
		{"go", []string{"Backend: pure Go (" + simdInfo + `; GOMLX_BACKEND="go")`}, false},
		{"go:ops_sequential", []string{"Backend: pure Go (" + simdInfo + `, config "ops_sequential"; GOMLX_BACKEND="go:ops_sequential")`}, false},
		{"xla", []string{"Backend: pure Go (", `GOMLX_BACKEND="xla" asks for XLA`}, true},
		{"xla:cuda", []string{"Backend: pure Go (", `GOMLX_BACKEND="xla:cuda" asks for XLA`}, true},
		{"xla:" + missing, []string{"Backend: pure Go (", `asks for XLA`, missing}, true},
		{"go:warp_speed", []string{"Backend: pure Go (", `is not a valid Go backend configuration`}, true},
		// Unknown values: typos are named as such, with what was probably meant and the valid values.
		{"onnx", append([]string{`GOMLX_BACKEND="onnx" names no backend`}, unknown...), true},
		{"xal", append([]string{`GOMLX_BACKEND="xal" names no backend of this program (did you mean "xla"?)`}, unknown...), true},
		{"XLA", append([]string{`(did you mean "xla"?)`}, unknown...), true},
		{"xlaa:cpu", append([]string{`GOMLX_BACKEND="xlaa:cpu" names no backend of this program (did you mean "xla"?)`}, unknown...), true},
		{"og", append([]string{`(did you mean "go"?)`}, unknown...), true},
		{"gpu", append([]string{`(did you mean "xla:cuda"?)`}, unknown...), true},
		{" Go ", append([]string{`GOMLX_BACKEND="Go" names no backend of this program (did you mean "go"?)`}, unknown...), true},
	} {
		t.Run(tc.env, func(t *testing.T) {
			b, info, fallback, err := start(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			if strings.Contains(info, "\n") || !strings.HasPrefix(info, "Backend: ") || !containsAll(info, tc.want...) {
				t.Errorf("info %q, want it to contain %q on one line", info, tc.want)
			}
			if (fallback != "") != tc.fallback || !strings.Contains(info, fallback) {
				t.Errorf("fallback reason %q, want one (in the line): %v", fallback, tc.fallback)
			}
		})
	}
}

// TestBackendLineNamesNoHomeFolder checks that the line of a fallback writes the home folder "~"
// in the path of the plugin to install (the default location, or one CIFARLAB_PJRT_PLUGIN names).
func TestBackendLineNamesNoHomeFolder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if got, err := os.UserHomeDir(); err != nil || got != home {
		t.Skipf("cannot set the home folder on this system (got %q, %v)", got, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	for _, tc := range []struct {
		name, env, plugin, want string
	}{
		{"default location", "", "", "not installed at ~/.local/share/cifarlab/pjrt/pjrt_c_api_cpu_plugin.so (the default location; kernel-setup/setup.sh installs it)"},
		{"CIFARLAB_PJRT_PLUGIN", "", filepath.Join(home, "pjrt", pjrtPluginFile), "not installed at ~/pjrt/pjrt_c_api_cpu_plugin.so (CIFARLAB_PJRT_PLUGIN; "},
		{"GOMLX_BACKEND", "xla:" + filepath.Join(home, "no.so"), "", `GOMLX_BACKEND="xla:~/no.so" asks for XLA`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPJRTPlugin, tc.plugin)
			b, info, fallback, err := start(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			want := filepath.FromSlash(tc.want)
			if XLACompiledIn && !strings.Contains(info, want) || strings.Contains(info, home) || strings.Contains(fallback, home) {
				t.Errorf("line %q (fallback %q), want it to contain %q and not the home folder %s", info, fallback, want, home)
			}
		})
	}
}

func TestXLADescription(t *testing.T) {
	plugin := filepath.Join(t.TempDir(), "pjrt", pjrtPluginFile)
	for _, tc := range []struct {
		device, plugin, version, want string
	}{
		{"cpu", plugin, "0.115", "XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115)"},
		{"cuda", "cuda", "0.90", "XLA on CUDA (PJRT plugin cuda, PJRT C API 0.90)"},
		{"", plugin, "", "XLA (PJRT plugin pjrt_c_api_cpu_plugin.so)"},
	} {
		if got := xlaDescription(tc.device, tc.plugin, tc.version); got != tc.want {
			t.Errorf("xlaDescription(%q, %q, %q) = %q, want %q", tc.device, tc.plugin, tc.version, got, tc.want)
		}
	}
	desc := xlaDescription("cpu", plugin, "0.115")
	for env, want := range map[string]string{
		"xla:cuda":                            `XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115; GOMLX_BACKEND="xla:cuda")`,
		"xla:" + plugin:                       "XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115; plugin from GOMLX_BACKEND)",
		"xla:" + plugin + ",noshared_buffers": "XLA on the CPU (PJRT plugin pjrt_c_api_cpu_plugin.so, PJRT C API 0.115; plugin from GOMLX_BACKEND)",
	} {
		_, config, _ := strings.Cut(env, ":")
		if got := withNote(desc, envSetting(env, config)); got != want {
			t.Errorf("GOMLX_BACKEND=%s: %q, want %q", env, got, want)
		}
	}
}

// TestTildeHome checks that the home folder, and only the whole home folder, becomes "~".
func TestTildeHome(t *testing.T) {
	t.Setenv("HOME", "/home/you")
	if got, _ := os.UserHomeDir(); got != "/home/you" || filepath.Separator != '/' {
		t.Skip("a Unix home folder cannot be set on this system")
	}
	for text, want := range map[string]string{
		"plugin /home/you/.local/share/x.so is damaged": "plugin ~/.local/share/x.so is damaged",
		"/home/you": "~",
		`GOMLX_BACKEND="xla:/home/you/p.so" and /home/you/q.so`: `GOMLX_BACKEND="xla:~/p.so" and ~/q.so`,
		"plugin /home/young/x.so":                               "plugin /home/young/x.so",
		"plugin /srv/home/you/x.so":                             "plugin /srv/home/you/x.so",
		"plugin /opt/cifarlab/x.so":                             "plugin /opt/cifarlab/x.so",
		"(at /home/you)":                                        "(at ~)",
	} {
		if got := tildeHome(text); got != want {
			t.Errorf("tildeHome(%q) = %q, want %q", text, got, want)
		}
	}
	t.Setenv("HOME", "/")
	if got := tildeHome("plugin /opt/x.so"); got != "plugin /opt/x.so" {
		t.Errorf("with the root folder as home: %q", got)
	}
}

// TestMeantBackend checks the suggestions for unknown GOMLX_BACKEND names, and that unrelated
// names get none.
func TestMeantBackend(t *testing.T) {
	for name, want := range map[string]string{
		"xal": "xla", "XLA": "xla", "lxa": "xla", "xl": "xla", "xlaa": "xla", "xsa": "xla", "cpu": "xla",
		"og": "go", "GO": "go", "g": "go", "goo": "go", "golang": "go",
		"gpu": "xla:cuda", "CUDA": "xla:cuda",
		"onnx": "", "tensorflow": "", "": "", "xylophone": "",
	} {
		if got := meantBackend(name); got != want {
			t.Errorf("meantBackend(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestFallbackLineEveryCell checks that a training cell prints the backend line of a fallback in
// every cell (every GoNB cell is a new process), and the line of the backend wanted once per
// kernel.
func TestFallbackLineEveryCell(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fallback bool
		want     int // lines printed by three cells
	}{
		{"fallback", true, 3},
		{"wanted", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GONB_TMP_DIR", t.TempDir())
			lines := 0
			for range 3 {
				var out strings.Builder
				printForTraining(&out, "the line", tc.fallback)
				if out.Len() > 0 {
					lines++
				}
			}
			if lines != tc.want {
				t.Errorf("three cells printed %d lines, want %d", lines, tc.want)
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
			t.Setenv(EnvPJRTPlugin, tc.env)
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
