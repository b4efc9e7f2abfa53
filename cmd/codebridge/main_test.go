package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// execMainEnv makes the test binary act as the codebridge command: the
// scale-out test starts real codebridge processes from it.
const execMainEnv = "CODEBRIDGE_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

var e2eTokens = []config.Token{
	{Name: "ehr1", Role: workitem.RoleEHR, Value: "e2e-ehr-token"},
	{Name: "alice", Role: workitem.RoleCoder, Value: "e2e-coder-token"},
	{Name: "root", Role: workitem.RoleAdmin, Value: "e2e-admin-token"},
}

// startMain runs Main on 127.0.0.1:0 against dbURL and closes it at the end.
func startMain(t testing.TB, dbURL string, modify ...func(*config.Config)) *Main {
	t.Helper()
	cfg := config.Default()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DatabaseURL = dbURL
	cfg.Tokens = e2eTokens
	cfg.EmbeddedKafkaAddr = "127.0.0.1:0"
	cfg.AutoCode = false // tests that exercise straight-through coding turn it on
	for _, f := range modify {
		f(&cfg)
	}
	m := &Main{Config: cfg, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func get(t *testing.T, m *Main, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+m.Addr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMainEndToEnd(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	if code, _ := get(t, m, "/healthz", ""); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if code, body := get(t, m, "/readyz", ""); code != 200 {
		t.Fatalf("readyz = %d %s", code, body)
	}
	if code, body := get(t, m, "/api/v1/whoami", "e2e-coder-token"); code != 200 || !strings.Contains(body, `"alice"`) {
		t.Fatalf("whoami = %d %s", code, body)
	}
	if code, _ := get(t, m, "/api/v1/whoami", ""); code != 401 {
		t.Fatalf("whoami without token = %d", code)
	}
	code, body := get(t, m, "/metrics", "")
	for _, want := range []string{"codebridge_http_request_duration_seconds", "go_build_info", `go_sql_max_open_connections{db_name="codebridge"}`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lacks %s", want)
		}
	}
}

func TestGracefulShutdownCompletesInFlight(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	started := make(chan struct{})
	m.HTTP.API.GET("/slow", func(c echo.Context) error {
		close(started)
		time.Sleep(500 * time.Millisecond)
		return c.String(200, "finished")
	})
	var wg sync.WaitGroup
	var code int
	var body string
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, body = get(t, m, "/api/v1/slow", "e2e-coder-token")
	}()
	<-started
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if code != 200 || body != "finished" {
		t.Fatalf("in-flight request got %d %q, want 200 finished", code, body)
	}
	if _, err := net.DialTimeout("tcp", m.Addr, time.Second); err == nil {
		t.Fatal("still accepting connections after Close")
	}
}

// proxiedDatabase returns the URL of a fresh test database reached through
// a proxy the test can take down (a database outage), with a short connect
// timeout.
func proxiedDatabase(t *testing.T) (string, *proxy) {
	t.Helper()
	u, _ := url.Parse(pgtest.NewURL(t))
	p := newProxy(t, u.Host)
	u.Host = p.l.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String(), p
}

// proxy forwards TCP to target until it is paused; paused, it refuses and
// cuts every connection, as a database outage would.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go p.accept()
	t.Cleanup(func() { l.Close(); p.setDown(true) })
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); u.Close() }()
		go func() { _, _ = io.Copy(c, u); c.Close() }()
	}
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func TestReadyzFollowsDatabase(t *testing.T) {
	dbURL, p := proxiedDatabase(t)
	m := startMain(t, dbURL)
	if code, _ := get(t, m, "/readyz", ""); code != 200 {
		t.Fatalf("readyz = %d, want 200", code)
	}
	p.setDown(true)
	if code, body := get(t, m, "/readyz", ""); code != 503 || !strings.Contains(body, `"database":"unavailable"`) {
		t.Fatalf("readyz with database gone = %d %s, want 503", code, body)
	}
	if code, _ := get(t, m, "/healthz", ""); code != 200 {
		t.Fatalf("healthz must stay 200 while the process lives, got %d", code)
	}
	p.setDown(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := get(t, m, "/readyz", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz did not return to 200 after the database came back (last %d)", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCommandsRejectBadConfig(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve"}, map[string]string{}, "CODEBRIDGE_DATABASE_URL"},
		{[]string{"serve"}, map[string]string{"CODEBRIDGE_DATABASE_URL": "postgres://x/y"}, "CODEBRIDGE_API_TOKENS"},
		{[]string{"serve"}, map[string]string{"CODEBRIDGE_AUTOCODE": "perhaps"}, "CODEBRIDGE_AUTOCODE"},
		{[]string{"migrate"}, map[string]string{}, "CODEBRIDGE_DATABASE_URL"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		cmd := newRootCmd(func(k string) string { return tt.env[k] }, &out, &errOut)
		cmd.SetArgs(tt.args)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v with %v: error %v, want one naming %s", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestMigrateAndVersionCommands(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	var out, errOut bytes.Buffer
	cmd := newRootCmd(func(k string) string {
		if k == "CODEBRIDGE_DATABASE_URL" {
			return dbURL
		}
		return ""
	}, &out, &errOut)
	cmd.SetArgs([]string{"migrate"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(errOut.String(), `"applied":0`) {
		t.Errorf("migrate on a migrated db should apply 0: %s", errOut.String())
	}
	out.Reset()
	cmd = newRootCmd(func(string) string { return "" }, &out, &errOut)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil || !strings.HasPrefix(out.String(), "codebridge ") {
		t.Fatalf("version = %q, %v", out.String(), err)
	}
}
