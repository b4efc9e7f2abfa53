package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// assets are the embedded static files, versioned by their content hash
// so they may be cached for long.
type assets struct {
	files   map[string][]byte
	version string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string][]byte{}}
	h := sha256.New()
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		a.files[name] = b
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
		return nil
	})
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	return a, err
}

// static serves an embedded asset; with the current version in the query
// it may be cached for a year (assets hold no PHI).
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, ok := h.assets.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	if r.URL.Query().Get("v") == h.assets.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}

var pageNames = []string{"login.html", "worklist.html", "chart.html", "review.html", "query.html", "dashboard.html", "settings.html", "error.html", "done.html"}

// parsePages parses each page with the shared layout and partials.
func parsePages(version string) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, p := range append(pageNames, "") {
		files := []string{"templates/layout.html", "templates/partials.html"}
		if p != "" {
			files = append(files, "templates/"+p)
		}
		t, err := template.New(p).Funcs(funcs(version)).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, fmt.Errorf("webui: templates: %w", err)
		}
		out[p] = t
	}
	return out, nil
}

func funcs(version string) template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string { return "/ui/static/" + name + "?v=" + version },
		"stamp": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"statusLabel": statusLabel,
		"when":        when,
		"encDates":    encounterDates,
		"add":         func(a, b int) int { return a + b },
		"join":        strings.Join,
		"json": func(v any) string {
			b, _ := json.Marshal(v)
			return string(b)
		},
		"letter":   func(i int) string { return string(rune('A' + i)) },
		"has":      slices.Contains[[]string],
		"sysLabel": systemLabel,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}

// systemLabel names a coding system URI (or a short system id) briefly.
func systemLabel(uri string) string {
	l := strings.ToLower(uri)
	switch {
	case strings.Contains(l, "icd-10-cm") || l == "icd10cm":
		return "ICD-10-CM"
	case strings.Contains(l, "snomed"):
		return "SNOMED CT"
	case strings.Contains(l, "ama-assn") || l == "cpt":
		return "CPT"
	case strings.Contains(l, "hcpcs"):
		return "HCPCS"
	case strings.Contains(l, "icd10") || strings.Contains(l, "icd-10-pcs") || l == "icd10pcs":
		return "ICD-10-PCS"
	case strings.Contains(l, "loinc"):
		return "LOINC"
	}
	return uri
}

// when writes an RFC 3339 time of the chart as "2026-03-10 14:25 UTC"
// (a plain date stays as it is).
func when(v string) string {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return v
	}
	if t.UTC().Format("15:04:05") == "00:00:00" {
		return t.UTC().Format(time.DateOnly)
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// statusLabel is a work-item status as people read it.
func statusLabel(s workitem.Status) string {
	switch s {
	case workitem.InProgress:
		return "In progress"
	case workitem.OnHold:
		return "On hold (query)"
	case workitem.InReview:
		return "In QA review"
	}
	v := strings.ReplaceAll(string(s), "_", " ")
	if v == "" {
		return ""
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

// pageData is what the layout needs, plus the page's own Data.
type pageData struct {
	Title       string // never names a patient
	User        *Principal
	CSRF        string
	IdleSeconds int
	WarnSeconds int
	Prefs       prefs
	Nav         string
	Data        any
}

// renderPage renders a whole page.
func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, s *session, status int, page, title string, data any) {
	d := pageData{Title: title, Data: data, Prefs: defaultPrefs(), Nav: strings.TrimSuffix(page, ".html")}
	if s != nil {
		p := s.principal()
		d.User, d.CSRF = &p, s.CSRF
		d.IdleSeconds, d.WarnSeconds = int(h.o.IdleTimeout.Seconds()), warnLead(h.o.IdleTimeout)
		d.Prefs = h.prefsOf(r, s.Principal)
	}
	h.execute(w, status, page, "layout", d)
}

// renderFragment renders one named template of the partials (htmx answers).
func (h *Handler) renderFragment(w http.ResponseWriter, status int, name string, data any) {
	h.execute(w, status, "", name, data)
}

func (h *Handler) execute(w http.ResponseWriter, status int, page, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		h.o.Logger.Error("workbench template failed", "template", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// warnLead is how long before automatic log-off the warning shows: a
// minute, but never less than 20 seconds nor more than half the timeout
// unless the timeout is under 40 seconds.
func warnLead(idle time.Duration) int {
	lead := time.Minute
	if idle < 2*time.Minute {
		lead = max(20*time.Second, idle/2)
	}
	return int(lead.Seconds())
}

// errorView is how an error is shown to people.
type errorView struct {
	Status  int
	Heading string
	Message string
	Issues  []workitem.Issue
}

func viewOf(err error, requestID string) errorView {
	k := workitem.KindOf(err)
	if k == workitem.Internal {
		return errorView{Status: 500, Heading: "Something went wrong",
			Message: "The server could not finish this request (reference " + requestID + "). Your saved work is safe; try again."}
	}
	msg := err.Error()
	var e *workitem.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	return errorView{Status: kindStatus(k), Heading: kindHeading(k), Message: msg, Issues: workitem.IssuesOf(err)}
}

func kindStatus(k workitem.Kind) int {
	switch k {
	case workitem.Invalid:
		return 400
	case workitem.Unauthorized:
		return 401
	case workitem.Forbidden:
		return 403
	case workitem.NotFound:
		return 404
	case workitem.Conflict:
		return 409
	case workitem.Precondition:
		return 412
	case workitem.Unprocessable:
		return 422
	case workitem.Transient:
		return 503
	}
	return 500
}

func kindHeading(k workitem.Kind) string {
	switch k {
	case workitem.Forbidden:
		return "Not allowed"
	case workitem.NotFound:
		return "Not found"
	case workitem.Conflict:
		return "Not possible right now"
	case workitem.Precondition:
		return "This chart changed elsewhere"
	case workitem.Unprocessable:
		return "Refused"
	}
	return "Please check your input"
}

// renderError shows err: as a page, or for htmx as a message in the page's
// alert region.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	v := viewOf(err, w.Header().Get("X-Request-Id"))
	if v.Status >= 500 {
		h.o.Logger.ErrorContext(r.Context(), "workbench request failed", "path_pattern", r.Pattern, "error", err.Error())
	}
	if workitem.KindOf(err) == workitem.Precondition {
		v.Message = "Someone (or another tab) saved this chart after you opened it. Reload the page to see the latest codes; your draft is kept."
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Retarget", "#messages")
		w.Header().Set("HX-Reswap", "innerHTML")
		h.renderFragment(w, http.StatusOK, "alert", v)
		return
	}
	h.renderPage(w, r, s, v.Status, "error.html", v.Heading, v)
}

func itoa(n int) string { return strconv.Itoa(n) }
