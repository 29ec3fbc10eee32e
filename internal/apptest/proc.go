package apptest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// ServerBinary builds the livecheck binary once per test process.
func ServerBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "livecheck-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "livecheck")
		cmd := exec.Command("go", "build", "-o", buildBin, "./server")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Proc is the livecheck binary running as a child process.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	Output *LogBuffer // stdout and stderr
	done   chan struct{}
	err    error
}

// StartProc runs `livecheck serve` with the given settings on port and waits
// until /readyz answers.
func StartProc(t testing.TB, port int, settings map[string]string) *Proc {
	t.Helper()
	bin := ServerBinary(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := append(os.Environ(), "LIVECHECK_LISTEN=127.0.0.1:"+strconv.Itoa(port), "LIVECHECK_BASE_URL="+url,
		"LIVECHECK_PASSWORD_COST=4", "LIVECHECK_LOG_LEVEL=debug")
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	p := &Proc{t: t, URL: url, Output: &LogBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.Output, p.Output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.Kill() })
	Eventually(t, 60*time.Second, func() (bool, string) {
		select {
		case <-p.done:
			t.Fatalf("livecheck exited during start: %v\n%s", p.err, p.Output.String())
		default:
		}
		resp, err := httpGet(url + "/readyz")
		return err == nil && resp == 200, fmt.Sprintf("readyz: %d %v", resp, err)
	})
	return p
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// Kill ends the process at once (kill -9) and waits for it.
func (p *Proc) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Wait waits for the process to exit within timeout and returns its error (nil: exit 0).
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("livecheck did not exit within %s", timeout)
	}
}

func httpGet(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Postgres is a private PostgreSQL server for fault tests that stop and start it.
type Postgres struct {
	t    testing.TB
	dir  string
	port int
	bin  string
	URL  string
}

// StartPostgres initialises and starts a private PostgreSQL on a free port.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("apptest: PostgreSQL server binaries not found (make test installs postgresql)")
	}
	pg := &Postgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: FreePort(t)}
	dir, err := os.MkdirTemp("", "livecheck-pg")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		if err := exec.Command("chown", "postgres:postgres", dir).Run(); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := pg.run("initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	pg.Start()
	t.Cleanup(func() {
		_, _ = pg.run("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	if out, err := pg.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "livecheck"); err != nil {
		t.Fatalf("createdb: %v: %s", err, out)
	}
	pg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/livecheck?sslmode=disable", pg.port)
	return pg
}

func (pg *Postgres) run(tool string, args ...string) (string, error) {
	path := filepath.Join(pg.bin, tool)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Start starts the server and waits until it accepts connections.
func (pg *Postgres) Start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir)
	if out, err := pg.run("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-o", opts, "-l", filepath.Join(pg.dir, "log"), "-w", "start"); err != nil {
		pg.t.Fatalf("pg_ctl start: %v: %s", err, out)
	}
}

// Stop stops the server at once (connections are cut, as in a crash or restart).
func (pg *Postgres) Stop() {
	pg.t.Helper()
	if out, err := pg.run("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		pg.t.Fatalf("pg_ctl stop: %v: %s", err, out)
	}
}
