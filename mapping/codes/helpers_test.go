package codes

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// testdata is the repository's shared testdata directory.
var testdata = filepath.Join("..", "..", "testdata", "codesets")

// bundled returns the uncompressed content of the bundle called name.
func bundled(tb testing.TB, name string) []byte {
	tb.Helper()
	for _, b := range Bundled() {
		if b.Name != name {
			continue
		}
		rc, err := b.Open()
		if err != nil {
			tb.Fatal(err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			tb.Fatal(err)
		}
		return data
	}
	tb.Fatalf("no bundle %s", name)
	return nil
}

func openTestdata(tb testing.TB, name string) *bytes.Reader {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.NewReader(data)
}

var (
	catalogOnce sync.Once
	catalog     *Catalog
	catalogErr  error
)

// bundledCatalog returns a catalog with every bundled set loaded, shared by
// the tests of this package.
func bundledCatalog(tb testing.TB) *Catalog {
	tb.Helper()
	catalogOnce.Do(func() {
		catalog = NewCatalog()
		catalogErr = LoadBundled(catalog)
	})
	if catalogErr != nil {
		tb.Fatal(catalogErr)
	}
	return catalog
}

func bundledReader(tb testing.TB, name string) *bytes.Reader {
	tb.Helper()
	return bytes.NewReader(bundled(tb, name))
}

// bundledFile returns the uncompressed content of an embedded file.
func bundledFile(tb testing.TB, name string) []byte {
	tb.Helper()
	rc, err := BundledFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
