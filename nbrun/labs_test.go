//go:build linux

package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ./labs.sh starts JupyterLab with a token that no other user of the machine can read: not on any
// command line (ps shows every process's arguments to everyone), but in the environment, which
// only the user and root can read. The test runs labs.sh, then ps as the user nobody, then checks
// that the printed URL's token opens the server and that no token is refused.
func TestLabsTokenNotOnTheCommandLine(t *testing.T) {
	if os.Getenv("CIFARLAB_NOTEBOOK_TESTS") == "" {
		t.Skip("set CIFARLAB_NOTEBOOK_TESTS=1 to start JupyterLab (nbrun/test.sh does)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run ps as another user (nobody)")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)

	port := freePort(t)
	cmd := exec.Command("./labs.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CIFARLAB_PORT="+strconv.Itoa(port), "DISPLAY=", "WAYLAND_DISPLAY=", "CIFARLAB_TOKEN=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()

	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)`)
	lines := bufio.NewScanner(stdout)
	var token string
	for lines.Scan() {
		if m := urlRE.FindStringSubmatch(lines.Text()); m != nil {
			token = m[2]
			break
		}
	}
	if token == "" {
		t.Fatal("labs.sh printed no URL with a token")
	}
	go func() { // keep reading, so that the server never blocks on its output
		for lines.Scan() {
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	status := func(tok string) int {
		req, _ := http.NewRequest("GET", base+"/api/status", nil)
		if tok != "" {
			req.Header.Set("Authorization", "token "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(60 * time.Second)
	for status(token) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("JupyterLab did not answer with the printed token within 60 s")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if code := status(""); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("the server answered %d without a token", code)
	}

	ps := exec.Command("ps", "-eo", "user,pid,args")
	ps.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := ps.CombinedOutput()
	if err != nil {
		t.Fatalf("ps as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "jupyter") {
		t.Fatalf("ps as nobody does not show the server at all:\n%s", out)
	}
	if strings.Contains(string(out), token) {
		t.Errorf("the token is on a command line that every user sees:\n%s", out)
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
