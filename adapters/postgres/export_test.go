package postgres

import "database/sql/driver"

// Internals the external tests (package postgres_test) exercise. They live
// in a _test file so they are not part of the package's API; the tests are
// external because pgtest, which gives them a database, imports this
// package.

// Cacheable is cacheable.
var Cacheable = cacheable

// NewCachingConnector wraps base in the statement cache with room for size
// statements per connection.
func NewCachingConnector(base driver.Connector, size int) driver.Connector {
	return &cachingConnector{base: base, size: size}
}

// JSONArg is jsonArg.
func JSONArg(b []byte) driver.Valuer { return jsonArg(b) }
