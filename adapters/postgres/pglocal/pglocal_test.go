package pglocal

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestPrivateCluster starts the throwaway cluster used where no server runs,
// checks it answers, and checks Stop removes every trace.
func TestPrivateCluster(t *testing.T) {
	if _, err := binDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	s, err := startPrivate(ctx)
	if err != nil {
		t.Fatalf("startPrivate: %v", err)
	}
	if err := Ping(ctx, s.URL); err != nil {
		t.Fatalf("private cluster does not answer: %v", err)
	}
	dir := s.dataDir
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s still there after Stop", dir)
	}
	if err := Ping(ctx, s.URL); err == nil {
		t.Fatal("cluster still answers after Stop")
	}
}

func TestFindExplicitURLMustWork(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := Find(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=1", log)
	if err == nil {
		t.Fatal("an unreachable explicit URL must be an error, not a fallback")
	}
}
