// The code search: an ARIA 1.2 combobox over a listbox of codes that htmx
// fills as the coder types. Arrow keys choose, Enter adds the chosen code
// (the first one when none is chosen), Escape closes the list.
let enterPending = false;

const input = () => document.getElementById('code-q');
const list = () => document.getElementById('code-results');
const options = () => {
  const l = list();
  return l && !l.hidden ? [...l.querySelectorAll('[role="option"]')] : [];
};

function mark(opts, i) {
  opts.forEach((o, k) => o.setAttribute('aria-selected', k === i ? 'true' : 'false'));
  const q = input();
  if (opts[i]) {
    q.setAttribute('aria-activedescendant', opts[i].id);
    opts[i].scrollIntoView({ block: 'nearest' });
  }
}

function collapse() {
  const l = list();
  const q = input();
  if (l) l.hidden = true;
  if (q) {
    q.setAttribute('aria-expanded', 'false');
    q.removeAttribute('aria-activedescendant');
  }
}

function choose(opt) {
  document.getElementById('add-system').value = opt.dataset.system;
  document.getElementById('add-code').value = opt.dataset.code;
  document.getElementById('add-display').value = opt.dataset.display;
  input().value = '';
  collapse();
  document.getElementById('add-button').click();
}

// fresh reports whether the listbox answers what the input now says.
function fresh() {
  const l = list();
  const q = input();
  return l && q && (l.dataset.query || '') === q.value.trim();
}

export function initCombobox() {
  document.addEventListener('keydown', (e) => {
    const q = e.target;
    if (!(q instanceof HTMLInputElement) || q.id !== 'code-q') return;
    const opts = options();
    const i = opts.findIndex((o) => o.getAttribute('aria-selected') === 'true');
    switch (e.key) {
      case 'ArrowDown':
        if (!opts.length) return;
        e.preventDefault();
        mark(opts, Math.min(i + 1, opts.length - 1));
        break;
      case 'ArrowUp':
        if (!opts.length) return;
        e.preventDefault();
        mark(opts, Math.max(i - 1, 0));
        break;
      case 'Enter':
        e.preventDefault();
        if (!q.value.trim()) return;
        if (!fresh()) {
          enterPending = true; // add when the answer for this text arrives
          return;
        }
        if (opts.length) choose(opts[Math.max(i, 0)]);
        break;
      case 'Escape':
        if (opts.length) {
          e.preventDefault();
          collapse();
        }
        break;
      default:
        enterPending = false;
    }
  });
  document.addEventListener('click', (e) => {
    const opt = e.target instanceof Element && e.target.closest('#code-results [role="option"]');
    if (opt) choose(opt);
  });
  // A new answer resets the choice, on the swap itself (not on settle, 20 ms
  // later, when a key pressed as soon as the options show would lose its
  // choice), and only when the code results were swapped: the autosave's
  // swap of the edits pane must not undo an arrow key.
  document.body.addEventListener('htmx:afterSwap', (e) => {
    // (the search swaps #code-results outerHTML: the target is then the
    // old list, out of the document, with the same id)
    const t = e.detail && e.detail.target;
    const l = list();
    if (!(t instanceof Element) || !(t.id === 'code-results' || (l && t.contains(l)))) return;
    const q = input();
    if (!q) return;
    const opts = options();
    q.setAttribute('aria-expanded', opts.length ? 'true' : 'false');
    q.removeAttribute('aria-activedescendant');
    if (enterPending && fresh()) {
      enterPending = false;
      if (opts.length) choose(opts[0]);
    }
  });
}
