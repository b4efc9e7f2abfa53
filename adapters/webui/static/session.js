// Automatic log-off: warn before the idle timeout (at least 20 s before),
// offer to stay signed in, and sign out when the time is up. Activity is
// any request to the server; the status check does not count as one, so a
// second tab's activity keeps this one signed in too.
function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRF-Token'] || '';
  } catch {
    return '';
  }
}

async function remainingSeconds() {
  const r = await fetch('/ui/session/status', { credentials: 'same-origin', cache: 'no-store' });
  if (r.status === 401) return 0;
  if (!r.ok) throw new Error('status ' + r.status);
  return (await r.json()).remaining;
}

export function initSession() {
  const body = document.body;
  const idle = Number(body.dataset.idle || 0);
  const dialog = document.getElementById('idle-warning');
  if (!idle || !dialog) return;
  const lead = Number(body.dataset.warn || 60);
  const countdown = document.getElementById('idle-countdown');
  let deadline = Date.now() + idle * 1000;
  let timer = null;
  let ticker = null;

  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(0, ms));
  };
  const activity = () => {
    deadline = Date.now() + idle * 1000;
    if (dialog.open) close();
    schedule(deadline - lead * 1000 - Date.now());
  };
  const close = () => {
    clearInterval(ticker);
    if (dialog.open) dialog.close();
  };
  const signOut = async () => {
    close();
    try {
      await fetch('/ui/logout', {
        method: 'POST', credentials: 'same-origin', redirect: 'manual',
        headers: { 'X-CSRF-Token': csrfToken(), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'reason=idle',
      });
    } finally {
      window.location.assign('/ui/login?expired=1');
    }
  };
  // check asks the server how long is left; it warns, or signs out, only
  // when the server agrees the session is idle.
  async function check() {
    let left;
    try {
      left = await remainingSeconds();
    } catch {
      left = Math.round((deadline - Date.now()) / 1000);
    }
    deadline = Date.now() + left * 1000;
    if (left <= 0) return signOut();
    if (left > lead + 1) {
      if (dialog.open) close();
      return schedule(deadline - lead * 1000 - Date.now());
    }
    warn();
  }
  function warn() {
    const paint = () => {
      const s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = String(s);
      if (s <= 0) {
        clearInterval(ticker);
        check();
      }
    };
    paint();
    if (!dialog.open) dialog.showModal();
    clearInterval(ticker);
    ticker = setInterval(paint, 1000);
  }
  const extend = async () => {
    const r = await fetch('/ui/session/extend', {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken() },
    });
    if (r.ok) activity();
    else window.location.assign('/ui/login?expired=1');
  };

  document.getElementById('idle-extend').addEventListener('click', extend);
  document.getElementById('idle-signout').addEventListener('click', () => {
    document.getElementById('sign-out').click();
  });
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    extend();
  });
  body.addEventListener('htmx:afterRequest', (e) => {
    const xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status !== 401) activity();
  });
  schedule(deadline - lead * 1000 - Date.now());
}
