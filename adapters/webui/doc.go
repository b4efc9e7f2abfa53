// Package webui is the coder workbench: the web application under /ui/
// where coders work their queue, auditors review, and supervisors read the
// dashboards.
//
// It is server-rendered with html/template and a vendored htmx, plus a few
// small plain JavaScript modules (idle warning, keyboard shortcuts, the
// code-search combobox, code-pane keys), all embedded with go:embed: the
// binary alone serves it, with no CDN or network at run time.
//
// It drives the very same store operations as the JSON coding API —
// leasing, SaveCodes with the claim edits, Submit, physician queries, QA
// review, reports — through the interfaces in this package, which cmd wires
// to the PostgreSQL store; it adds only what a person at a desk needs:
// server-side sessions (the cookie holds a random id; the store keeps its
// hash), CSRF tokens on every unsafe request, automatic log-off after
// Options.IdleTimeout with a warning first, code-pane drafts saved on the
// server while the coder types, and keyboard shortcuts a user may remap or
// switch off.
//
// Privacy: URLs carry work-item ids only, page titles never name a patient,
// every response is Cache-Control: no-store, and nothing is put in browser
// storage (htmx's history cache is off). Pages send a strict
// Content-Security-Policy (no inline script or style), X-Frame-Options
// DENY and Referrer-Policy no-referrer.
package webui
