package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Report is what a run writes to --out (JSON) and
// summarises on stdout.
type Report struct {
	Started  time.Time `json:"started"`
	Machine  Machine   `json:"machine"`
	Options  Settings  `json:"options"`
	Preload  *Preload  `json:"preload,omitempty"`
	Load     Ingest    `json:"load"`
	EndToEnd *E2E      `json:"endToEnd,omitempty"`
	Bounds   Bounds    `json:"bounds"`
}

// Machine describes where the run happened. Client, service and
// database usually share it; LoadAverage shows what else was running.
type Machine struct {
	CPUs          int    `json:"cpus"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
	CPUModel      string `json:"cpuModel,omitempty"`
	MemTotalBytes int64  `json:"memTotalBytes"`
	GoVersion     string `json:"goVersion"`
	OS            string `json:"os"`
	Version       string `json:"codebridgeVersion"`
	ServerVersion string `json:"serverVersion,omitempty"`
	LoadAvgStart  string `json:"loadAverageStart,omitempty"`
	LoadAvgEnd    string `json:"loadAverageEnd,omitempty"`
}

// Settings are the options of the run as the report records them
// (never the token; the database URL without its password).
type Settings struct {
	URL            string  `json:"url"`
	Concurrency    int     `json:"concurrency"`
	Seconds        float64 `json:"durationSeconds"`
	Mix            string  `json:"mix"`
	Seed           uint64  `json:"seed"`
	Run            string  `json:"run"` // the label in this run's MRNs
	Brokers        string  `json:"brokers,omitempty"`
	DatabaseURL    string  `json:"databaseURL,omitempty"`
	BoundsSeconds  float64 `json:"boundsSeconds"`
	Preload        int     `json:"preload,omitempty"`
	PreloadBatch   int     `json:"preloadBatch,omitempty"`
	PreloadWorkers int     `json:"preloadConcurrency,omitempty"`
}

// Ingest is the measured load: what was sent and how it was answered.
type Ingest struct {
	Seconds         float64           `json:"seconds"`
	BundlesSent     int64             `json:"bundlesSent"`
	BundlesAccepted int64             `json:"bundlesAccepted"`
	Resources       int64             `json:"resourcesAccepted"`
	ResourcesPerSec float64           `json:"resourcesPerSecond"`
	BundlesPerSec   float64           `json:"bundlesPerSecond"`
	Latency         Latency           `json:"latency"`
	Errors          map[string]int    `json:"errorsByStatus"`
	Retries         map[string]int    `json:"retriesByStatus"`
	ErrorDetails    map[string]string `json:"firstErrorByStatus,omitempty"`
	Visits          map[string]int    `json:"visitsByKind"`
}

// Preload is how long storing the preload took.
type Preload struct {
	Resources       int64          `json:"resources"`
	Bundles         int64          `json:"bundles"`
	Seconds         float64        `json:"seconds"`
	ResourcesPerSec float64        `json:"resourcesPerSecond"`
	Errors          map[string]int `json:"errorsByStatus"`
	Retries         map[string]int `json:"retriesByStatus"`
	SettleSeconds   float64        `json:"settleSeconds"`
}

func ingestOf(t *tally, elapsed time.Duration) Ingest {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := elapsed.Seconds()
	return Ingest{
		Seconds: s, BundlesSent: t.bundles.Load(), BundlesAccepted: t.accepted.Load(), Resources: t.resources.Load(),
		ResourcesPerSec: float64(t.resources.Load()) / s, BundlesPerSec: float64(t.accepted.Load()) / s,
		Latency: summarize(t.latencies), Errors: t.errors, Retries: t.retries, ErrorDetails: t.details, Visits: t.kinds,
	}
}

// machineInfo describes this machine from the Go runtime and /proc.
func machineInfo(version string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Version: version, LoadAvgStart: loadAvg()}
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		n, _ := strconv.ParseInt(strings.Fields(kb)[0], 10, 64)
		m.MemTotalBytes = n << 10
	}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	return m
}

// procField answers the value of the first "name: value" line of a
// /proc file, or "".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg answers the 1, 5 and 15 minute load averages, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

var buildInfo = regexp.MustCompile(`codebridge_build_info\{version="([^"]*)"\}`)

// serverVersion reads the service's version from its /metrics, or "".
func serverVersion(ctx context.Context, c *loadClient) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return ""
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if m := buildInfo.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// writeJSON writes the report to path.
func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadReport reads a report written by an earlier run.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a bench report: %w", path, err)
	}
	return &r, nil
}
