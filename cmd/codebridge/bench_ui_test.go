package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// BenchmarkWorkbench measures the coder workbench over HTTP on loopback,
// with 100,000 work items queued and the bundled code sets loaded: the
// worklist's first page (by priority, and by days since discharge), a
// chart opening, and the code-search type-ahead, each request timed from
// send to the last byte read. Targets: worklist and chart <= 300 ms, search
// <= 100 ms.
func BenchmarkWorkbench(b *testing.B) {
	m := startMain(b, pgtest.NewURLWithBundledCodes(b), workbenchConfig)
	ids := workbenchCharts(b, m)
	seedQueue(b, m, 100_000)
	c := benchSignIn(b, m, "wb-alice-token")
	queries := []string{"J209", "J20.9", "bronchitis", "acute bronch", "chest pain", "type 2 diabetes", "hypertension", "K35.8", "appendicitis", "urinary tract infection"}
	cases := []struct {
		name  string
		paths []string
	}{
		{"worklist", []string{"/ui/"}},
		{"worklist-by-discharge", []string{"/ui/?status=open&sort=discharge"}},
		{"chart", []string{"/ui/items/" + ids["VR"], "/ui/items/" + ids["IMP"]}},
		{"search", searchPaths(queries)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for _, p := range tc.paths { // warm the caches and query plans first
				benchGet(b, c, "http://"+m.Addr+p)
			}
			var ds []time.Duration
			for i := 0; b.Loop(); i++ {
				ds = append(ds, benchGet(b, c, "http://"+m.Addr+tc.paths[i%len(tc.paths)]))
			}
			b.ReportMetric(percentile(ds, 0.5), "p50-ms")
			b.ReportMetric(percentile(ds, 0.9), "p90-ms")
			b.ReportMetric(percentile(ds, 0.99), "p99-ms")
		})
	}
}

func searchPaths(queries []string) []string {
	var out []string
	for _, q := range queries {
		out = append(out, "/ui/codes/search?system=icd10cm&date=2026-03-10&q="+url.QueryEscape(q))
	}
	return out
}

// benchGet GETs u and answers the time to the last byte; anything but 200
// fails the benchmark.
func benchGet(b *testing.B, c *http.Client, u string) time.Duration {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("HX-Request", "true")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	return d
}

// benchSignIn answers an HTTP client signed in to the workbench.
func benchSignIn(tb testing.TB, m *Main, token string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get("http://" + m.Addr + "/ui/login")
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f := regexp.MustCompile(`name="_login" value="([^"]+)"`).FindSubmatch(page)
	if f == nil {
		tb.Fatal("sign-in form without its token")
	}
	resp, err = c.PostForm("http://"+m.Addr+"/ui/login", url.Values{"_login": {string(f[1])}, "token": {token}})
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("sign-in: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	return c
}
