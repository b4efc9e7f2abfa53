// Package pglocal finds a PostgreSQL server for tests and `codebridge dev`,
// in the order CONTRACT.md §1.2 gives: an explicit URL; a server on
// 127.0.0.1:5432 as user postgres; else a private throwaway cluster started
// with the machine's initdb and pg_ctl in a temporary directory (as the
// unprivileged user "nobody" when running as root, since PostgreSQL refuses
// to run as root), removed again by Stop.
package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	_ "github.com/lib/pq" // database/sql driver
)

// DefaultURL is the well-known local server tried second.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Server is a reachable PostgreSQL: its admin URL and how to stop it when we
// started it ourselves.
type Server struct {
	URL     string // connection URL to an administrative database
	Source  string // "env", "local" or "private"
	dataDir string
	pgCtl   string
	cred    *syscall.Credential
}

// Find returns a reachable server. explicitURL, when set, must work: it is
// never silently replaced by another server.
func Find(ctx context.Context, explicitURL string, log *slog.Logger) (*Server, error) {
	if explicitURL != "" {
		if err := Ping(ctx, explicitURL); err != nil {
			return nil, fmt.Errorf("database URL given but unreachable: %w", err)
		}
		return &Server{URL: explicitURL, Source: "env"}, nil
	}
	if err := Ping(ctx, DefaultURL); err == nil {
		return &Server{URL: DefaultURL, Source: "local"}, nil
	}
	log.Info("no PostgreSQL on 127.0.0.1:5432; starting a private throwaway cluster")
	return startPrivate(ctx)
}

// Ping opens url and checks it answers within a short time.
func Ping(ctx context.Context, url string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Stop stops a private cluster and removes its directory; for other sources
// it does nothing.
func (s *Server) Stop() error {
	if s == nil || s.dataDir == "" {
		return nil
	}
	cmd := exec.Command(s.pgCtl, "stop", "-D", filepath.Join(s.dataDir, "data"), "-m", "immediate", "-w")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	out, err := cmd.CombinedOutput()
	rmErr := os.RemoveAll(s.dataDir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return rmErr
}

// binDir finds the directory holding initdb and pg_ctl: PATH first, then the
// newest /usr/lib/postgresql/*/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL found: nothing on 127.0.0.1:5432 and no initdb/pg_ctl installed (install the postgresql package or set CODEBRIDGE_DATABASE_URL)")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func startPrivate(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "codebridge-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dataDir: dir, pgCtl: filepath.Join(bin, "pg_ctl"), Source: "private"}
	if os.Geteuid() == 0 {
		if s.cred, err = nobody(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.initAndStart(ctx, bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) initAndStart(ctx context.Context, bin string) error {
	data := filepath.Join(s.dataDir, "data")
	if err := s.run(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, s.dataDir)
	if err := s.run(ctx, s.pgCtl, "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(s.dataDir, "log"), "-o", opts); err != nil {
		return err
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := Ping(ctx, s.URL); err != nil {
		_ = s.run(context.Background(), s.pgCtl, "stop", "-D", data, "-m", "immediate", "-w")
		return err
	}
	return nil
}

func (s *Server) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	cmd.Dir = s.dataDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(name), err, out)
	}
	return nil
}

func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root and no 'nobody' user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
