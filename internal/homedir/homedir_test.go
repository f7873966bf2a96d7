package homedir

import "testing"

func TestAbbrev(t *testing.T) {
	for _, tc := range []struct{ path, home, want string }{
		{"/home/ann/.cache/cifarlab/runs", "/home/ann", "~/.cache/cifarlab/runs"},
		{"/home/ann", "/home/ann", "~"},
		{"/home/ann/", "/home/ann", "~"},
		{"/home/anna/x", "/home/ann", "/home/anna/x"}, // a prefix of the name is not the folder
		{"/opt/cifarlab/data", "/home/ann", "/opt/cifarlab/data"},
		{"relative/dir", "/home/ann", "relative/dir"},
		{"/home/ann/../bob/x", "/home/ann", "/home/ann/../bob/x"}, // leaves the home folder
		{"/data", "/", "/data"},                                   // a home of / abbreviates nothing
		{"/home/ann/x", "", "/home/ann/x"},                        // home unknown
	} {
		if got := abbrev(tc.path, tc.home); got != tc.want {
			t.Errorf("abbrev(%q, home %q) = %q, want %q", tc.path, tc.home, got, tc.want)
		}
	}
}

func TestAbbrevUsesHOME(t *testing.T) {
	t.Setenv("HOME", "/home/bob")
	if got := Abbrev("/home/bob/.cache"); got != "~/.cache" {
		t.Errorf("Abbrev = %q, want ~/.cache", got)
	}
}
