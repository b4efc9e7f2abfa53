// Single-key shortcuts, remappable or switched off in Settings. They act
// only when the focus is not in a text field, list or dialog, so typing is
// never taken over (WCAG 2.1.4).
const typing = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], [role="listbox"], [role="combobox"], dialog';

export function initShortcuts() {
  let prefs;
  try {
    prefs = JSON.parse(document.body.dataset.prefs || 'null');
  } catch {
    return;
  }
  if (!prefs || !prefs.shortcuts) return;
  const keys = prefs.keys || {};
  for (const hint of document.querySelectorAll('kbd.shortcut-hint[data-key]')) {
    hint.textContent = keys[hint.dataset.key] || '';
  }
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.target instanceof Element && e.target.closest(typing)) return;
    if (document.querySelector('dialog[open]')) return;
    const action = Object.keys(keys).find((a) => keys[a] === e.key);
    if (!action) return;
    if (action === 'help') {
      const help = document.getElementById('shortcut-help');
      if (help) {
        e.preventDefault();
        help.showModal();
      }
      return;
    }
    const el = document.querySelector(`[data-shortcut="${action}"]`);
    if (!el) return;
    e.preventDefault();
    if (el.matches('input, textarea, select')) el.focus();
    else el.click();
  });
}
