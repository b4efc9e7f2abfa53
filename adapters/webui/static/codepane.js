// Keys of the code pane: Enter in a field saves instead of submitting the
// form, and Alt+ArrowUp / Alt+ArrowDown move the row the focus is in (the
// diagnosis sequence, or a service line).
export function initCodePane() {
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (!(t instanceof Element)) return;
    const form = t.closest('#codes-form');
    if (!form) return;
    if (e.key === 'Enter' && t instanceof HTMLInputElement && !e.altKey) {
      e.preventDefault();
      if (window.htmx) window.htmx.trigger(form, 'cb:flush');
      return;
    }
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      const row = t.closest('.row[data-section]');
      const btn = row && row.querySelector(`[data-move="${e.key === 'ArrowUp' ? 'up' : 'down'}"]`);
      if (btn && !btn.disabled) {
        e.preventDefault();
        btn.click();
      }
    }
  });
}
