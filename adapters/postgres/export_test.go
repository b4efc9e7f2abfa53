package postgres

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Internals the external tests (package postgres_test) exercise. They live
// in a _test file so they are not part of the package's API; the tests are
// external because pgtest, which gives them a database, imports this
// package.

// BundlesToLoad is bundlesToLoad.
var BundlesToLoad = bundlesToLoad

// Cacheable is cacheable.
var Cacheable = cacheable

// NewCachingConnector wraps base in the statement cache with room for size
// statements per connection.
func NewCachingConnector(base driver.Connector, size int) driver.Connector {
	return &cachingConnector{base: base, size: size}
}

// JSONArg is jsonArg.
func JSONArg(b []byte) driver.Valuer { return jsonArg(b) }

// DisableFreshPath makes s write everything through the general
// transaction, as before fresh.go, for comparison.
func DisableFreshPath(s *Store) { s.noFreshPath = true }

// SetNow fixes s's clock.
func SetNow(s *Store, now func() time.Time) { s.now = now }

// PlansFresh reports whether ws would take the one-statement path.
func PlansFresh(ctx context.Context, s *Store, ws []workitem.ResourceWrite) (bool, error) {
	_, ok, err := s.planFresh(ctx, ws, s.now())
	return ok, err
}

// SetRecheckGrace sets how long after seeing a release the re-check starts
// on it (recheckGrace); tests run it at once.
func SetRecheckGrace(s *Store, d time.Duration) { s.recheck.grace = d }
