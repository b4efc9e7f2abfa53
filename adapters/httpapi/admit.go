package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Admission control: at most MaxInFlight requests run handlers at once; the
// rest wait their turn in arrival order.
//
// Why: database/sql hands a freed connection to a random waiter, so when
// more requests than pooled connections are running, each of a request's
// connection acquisitions is a lottery and the unlucky wait again and
// again: the coder-day benchmark measured ~3 waits per request and a
// `next` p99 ten times its median. Bounding the requests in flight below the
// pool keeps acquisitions immediate; the queue in front is FIFO
// (x/sync/semaphore serves waiters in order), so waiting is shared fairly
// instead of piling onto a few requests. Fewer runnable PostgreSQL backends
// on a small machine also means less time lost switching between them.
// A request that cannot start within the queue timeout gets 503 with
// Retry-After, as with any transient overload; health, readiness and
// metrics are never queued. A request's body is read in full before it
// queues, so slow senders wait without holding a slot. One budget serves
// every route; the MLLP and Kafka listeners use the other half of the pool.
type admission struct {
	sem     *semaphore.Weighted
	timeout time.Duration
	waiting prometheus.Gauge
	waited  prometheus.Histogram
	refused prometheus.Counter
}

func newAdmission(max int, timeout time.Duration, reg prometheus.Registerer) *admission {
	a := &admission{
		sem:     semaphore.NewWeighted(int64(max)),
		timeout: timeout,
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "codebridge_http_admission_waiting",
			Help: "Requests waiting for a slot (CODEBRIDGE_HTTP_MAX_INFLIGHT)."}),
		waited: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "codebridge_http_admission_wait_seconds",
			Help: "Time requests waited for a slot.", Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_http_admission_refused_total",
			Help: "Requests answered 503 because no slot freed within the queue timeout."}),
	}
	if reg != nil {
		reg.MustRegister(a.waiting, a.waited, a.refused)
	}
	return a
}

// exempt says whether path bypasses the queue.
func exempt(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" || strings.HasPrefix(path, "/ui/static/")
}

func (a *admission) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if exempt(c.Request().URL.Path) {
			return next(c)
		}
		// The body is read before a slot is taken: a client sending slowly
		// (a large Bundle over a thin line, or someone dribbling a login
		// form on purpose) must not hold a slot others need. BodyLimit has
		// already wrapped the body, so this read stops at the limit (413).
		if err := bufferBody(c.Request()); err != nil {
			return err
		}
		if !a.sem.TryAcquire(1) {
			start := time.Now()
			a.waiting.Inc()
			ctx, cancel := context.WithTimeout(c.Request().Context(), a.timeout)
			err := a.sem.Acquire(ctx, 1)
			cancel()
			a.waiting.Dec()
			a.waited.Observe(time.Since(start).Seconds())
			if err != nil {
				if errors.Is(c.Request().Context().Err(), context.Canceled) {
					return workitem.Errorf(workitem.Transient, "the client went away while waiting for a slot")
				}
				a.refused.Inc()
				c.Response().Header().Set("Retry-After", "1")
				return workitem.Errorf(workitem.Transient, "server busy: the request waited %s for a slot; retry", a.timeout)
			}
		} else {
			a.waited.Observe(0)
		}
		defer a.sem.Release(1)
		return next(c)
	}
}

// bufferBody reads r's body into memory and puts it back as a reader.
func bufferBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // over the body limit: 413
		}
		return workitem.Errorf(workitem.Invalid, "request body could not be read")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}
