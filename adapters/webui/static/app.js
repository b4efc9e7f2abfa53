// codebridge workbench: wires the small modules below. No inline script is
// used anywhere (the Content-Security-Policy forbids it), and nothing is
// written to browser storage.
import { initSession } from './session.js';
import { initShortcuts } from './shortcuts.js';
import { initCombobox } from './combobox.js';
import { initCodePane } from './codepane.js';

// After an htmx swap, move the focus where the server asked (data-focus
// names an element id), so keyboard users keep their place.
function initFocus() {
  document.body.addEventListener('htmx:afterSwap', () => {
    const holder = document.querySelector('[data-focus]');
    if (!holder) return;
    const target = document.getElementById(holder.dataset.focus);
    holder.removeAttribute('data-focus');
    if (target) target.focus();
  });
}

// htmx notes the current path in sessionStorage even with its history
// off; the workbench keeps nothing in browser storage, so drop it.
try {
  sessionStorage.removeItem('htmx-current-path-for-history');
} catch {
  // storage unavailable: nothing to remove
}

initFocus();
initSession();
initShortcuts();
initCombobox();
initCodePane();
