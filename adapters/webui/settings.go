package webui

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// prefs are a user's workbench preferences.
type prefs struct {
	// Shortcuts turns the single-key shortcuts on (the default) or off.
	Shortcuts bool `json:"shortcuts"`
	// Keys maps each shortcut action to its key.
	Keys map[string]string `json:"keys"`
}

// shortcutAction is one single-key shortcut.
type shortcutAction struct {
	ID, Label, Default string
}

// shortcutActions are the single-key shortcuts. They never fire while the
// focus is in a text field, a list or a dialog.
var shortcutActions = []shortcutAction{
	{"next", "Take the next chart", "n"},
	{"search", "Jump to code search", "/"},
	{"review", "Review and submit the chart", "r"},
	{"query", "Compose a physician query", "q"},
	{"worklist", "Back to the worklist", "w"},
	{"help", "Show the keyboard shortcuts", "?"},
}

func defaultPrefs() prefs {
	p := prefs{Shortcuts: true, Keys: map[string]string{}}
	for _, a := range shortcutActions {
		p.Keys[a.ID] = a.Default
	}
	return p
}

// prefsOf answers a user's preferences, the defaults where unset.
func (h *Handler) prefsOf(r *http.Request, principal string) prefs {
	p := defaultPrefs()
	raw, err := h.o.State.UIPrefs(r.Context(), principal)
	if err != nil || raw == nil {
		return p
	}
	var saved prefs
	if json.Unmarshal(raw, &saved) != nil {
		return p
	}
	p.Shortcuts = saved.Shortcuts
	for id, k := range saved.Keys {
		if _, ok := p.Keys[id]; ok && validKey(k) {
			p.Keys[id] = k
		}
	}
	return p
}

func validKey(k string) bool {
	if utf8.RuneCountInString(k) != 1 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(k)
	return r > ' ' && r != 0x7f
}

type settingsData struct {
	Prefs   prefs
	Actions []shortcutAction
	Saved   bool
	Errors  []string
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	d := settingsData{Prefs: h.prefsOf(r, s.Principal), Actions: shortcutActions, Saved: r.URL.Query().Get("saved") == "1"}
	h.renderPage(w, r, s, http.StatusOK, "settings.html", "Settings", d)
	return nil
}

// saveSettings stores the shortcut preferences: every key one visible
// character, no key used twice.
func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	p := prefs{Shortcuts: r.PostFormValue("shortcuts") == "on", Keys: map[string]string{}}
	var errs []string
	used := map[string]string{}
	for _, a := range shortcutActions {
		k := strings.TrimSpace(r.PostFormValue("key_" + a.ID))
		switch {
		case !validKey(k):
			errs = append(errs, "The key for “"+a.Label+"” must be one visible character.")
		case used[k] != "":
			errs = append(errs, "The key “"+k+"” is used for both “"+used[k]+"” and “"+a.Label+"”.")
		default:
			used[k] = a.Label
		}
		p.Keys[a.ID] = k
	}
	if len(errs) > 0 {
		h.renderPage(w, r, s, http.StatusUnprocessableEntity, "settings.html", "Settings",
			settingsData{Prefs: p, Actions: shortcutActions, Errors: errs})
		return nil
	}
	raw, _ := json.Marshal(p)
	if err := h.o.State.SaveUIPrefs(r.Context(), s.Principal, raw, h.o.Now().UTC()); err != nil {
		return err
	}
	redirect(w, r, "/ui/settings?saved=1")
	return nil
}
