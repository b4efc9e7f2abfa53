package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Check is one readiness dependency (the database, the broker).
type Check struct {
	Name string
	Fn   func(context.Context) error
}

// Options configure the HTTP server.
type Options struct {
	Logger     *slog.Logger
	Registry   *prometheus.Registry // metrics are registered here and served on /metrics
	Auth       *Authenticator
	BodyLimit  int64 // bytes; 0 means 10 MiB
	Ready      []Check
	ReqTimeout time.Duration // per-request handler timeout; 0 means 60s
	// MaxInFlight bounds the requests running handlers at once (see
	// admission); 0 means no bound. QueueTimeout is how long one may wait
	// for a slot before 503; 0 means 10s.
	MaxInFlight  int
	QueueTimeout time.Duration
	// CodeSets, when set, adds the code-set coverage of today to the
	// /readyz body ("codeSets", and a "warnings" line per system no
	// release covers; never a failure) and exports it as the gauges
	// codebridge_codeset_coverage_days and codebridge_codeset_covered.
	CodeSets CodeSetCoverage
}

// Server is codebridge's HTTP server.
type Server struct {
	Echo *echo.Echo
	// FHIR and API are the authenticated route groups /fhir and /api/v1.
	FHIR     *echo.Group
	API      *echo.Group
	log      *slog.Logger
	auth     *Authenticator
	ready    []Check
	httpSrv  *http.Server
	metrics  *httpMetrics
	codeSets CodeSetCoverage
}

// New builds the server with its middleware, health and metrics routes.
func New(o Options) *Server {
	if o.BodyLimit <= 0 {
		o.BodyLimit = 10 << 20
	}
	if o.ReqTimeout <= 0 {
		o.ReqTimeout = 60 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Echo: e, log: o.Logger, auth: o.Auth, ready: o.Ready, metrics: newHTTPMetrics(o.Registry), codeSets: o.CodeSets}
	if o.CodeSets != nil && o.Registry != nil {
		o.Registry.MustRegister(newCoverageCollector(o.CodeSets))
	}
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.accessLog)
	e.Use(s.recoverer)
	e.Use(middleware.BodyLimit(strconv.FormatInt(o.BodyLimit, 10) + "B"))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: o.ReqTimeout}))
	if o.MaxInFlight > 0 {
		if o.QueueTimeout <= 0 {
			o.QueueTimeout = 10 * time.Second
		}
		e.Use(newAdmission(o.MaxInFlight, o.QueueTimeout, o.Registry).middleware)
	}
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry})))
	// The http.Server exists from the start, so a Shutdown that comes before
	// (or races with) Serve still stops it: Serve then returns at once.
	s.httpSrv = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	s.FHIR = e.Group("/fhir", s.authMiddleware)
	s.API = e.Group("/api/v1", s.authMiddleware)
	s.API.GET("/whoami", s.whoami)
	return s
}

// Authenticator returns the authenticator the server checks tokens with,
// so the workbench's sign-in accepts exactly the API's tokens.
func (s *Server) Authenticator() *Authenticator { return s.auth }

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.httpSrv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.httpSrv.Shutdown(ctx)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when every dependency check passes. Its body
// also carries the code-set coverage ("codeSets") and a warning per code
// system no release covers today ("warnings"), which never fail it.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	for _, ch := range s.ready {
		if err := ch.Fn(ctx); err != nil {
			checks[ch.Name] = "unavailable"
			ok = false
			s.log.WarnContext(ctx, "readiness check failed", "check", ch.Name, "error", err.Error())
		} else {
			checks[ch.Name] = "ok"
		}
	}
	status, body := http.StatusOK, map[string]any{"status": "ok", "checks": checks}
	if !ok {
		status, body["status"] = http.StatusServiceUnavailable, "unavailable"
	} else if d, warnings := s.codeSetDetails(ctx); d != nil {
		body["codeSets"] = d
		if len(warnings) > 0 {
			body["warnings"] = warnings
		}
	}
	return c.JSON(status, body)
}

func (s *Server) whoami(c echo.Context) error {
	p := PrincipalOf(c)
	return c.JSON(http.StatusOK, map[string]string{"name": p.Name, "role": string(p.Role)})
}

// accessLog writes one structured line per request and records metrics.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		d := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, d)
		s.log.InfoContext(c.Request().Context(), "http",
			"method", c.Request().Method, "route", route, "status", status,
			"duration_ms", float64(d.Microseconds())/1000, "bytes_out", c.Response().Size,
			"request_id", requestID(c), "principal", PrincipalOf(c).Name)
		return nil
	}
}

// recoverer turns a handler panic into a 500 and logs the stack.
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", "request_id", requestID(c), "route", c.Path(), "panic", p, "stack", string(debug.Stack()))
				err = &workitem.Error{Kind: workitem.Internal, Message: "internal error"}
			}
		}()
		return next(c)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
