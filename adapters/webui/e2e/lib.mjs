// Helpers of the workbench browser suite: a Chromium from the system,
// per-user browser contexts, keyboard helpers, axe-core checks, privacy
// checks and screenshots.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium } from 'playwright-core';

export const chromiumFlags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: chromiumFlags,
  });
}

// Suite collects step results and the problems pages report (CSP
// violations, uncaught errors, accessibility violations).
export class Suite {
  constructor(shotDir) {
    this.shotDir = shotDir;
    this.passed = 0;
    this.failed = 0;
    this.problems = [];
    if (shotDir) mkdirSync(shotDir, { recursive: true });
  }

  async step(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      this.passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
      return true;
    } catch (err) {
      this.failed++;
      console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
      return false;
    }
  }

  // user opens a browser context of its own (its own cookies) on baseURL.
  async user(browser, baseURL, label) {
    const context = await browser.newContext({ baseURL, viewport: { width: 1360, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    // Report every Content-Security-Policy violation with where it came from.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} by ${e.sourceFile || 'the page'}:${e.lineNumber}:${e.columnNumber} ${e.sample || ''}`);
      });
    });
    page.on('console', (msg) => {
      if (msg.text().startsWith('CSP violation')) this.problems.push(`${label}: ${msg.text()} on ${page.url()}`);
    });
    page.on('pageerror', (err) => this.problems.push(`${label}: script error on ${page.url()}: ${err.message}`));
    return { context, page };
  }

  async shot(page, name) {
    if (!this.shotDir) return;
    await page.screenshot({ path: path.join(this.shotDir, name + '.png'), fullPage: false });
  }

  // a11y runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page and fails
  // on any violation, naming the rule and the elements.
  async a11y(page, screen) {
    await page.evaluate(axe.source);
    const res = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
    const v = res.violations.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('; ')}`);
    assert.deepEqual(v, [], `axe-core found WCAG 2.1 AA violations on the ${screen} screen`);
  }
}

// signIn types the token on the sign-in page and submits with Enter.
export async function signIn(page, token) {
  await page.goto('/ui/login');
  await page.focus('#token');
  await page.keyboard.type(token);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login')), page.keyboard.press('Enter')]);
}

// tabTo presses Tab (Shift+Tab when back) until the focus is on selector.
export async function tabTo(page, selector, { back = false, max = 120 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`keyboard focus never reached ${selector}`);
}

export async function focused(page) {
  return page.evaluate(() => (document.activeElement ? document.activeElement.id : ''));
}

// focusOn waits until the keyboard focus is on the element with id (the
// workbench moves it there after an htmx swap).
export async function focusOn(page, id) {
  await page.waitForFunction((id) => document.activeElement && document.activeElement.id === id, id);
}

// typeSearch types q into the focused code search and waits for the
// listbox to answer exactly q.
export async function typeSearch(page, q) {
  await page.keyboard.type(q);
  await page.waitForFunction((q) => {
    const l = document.getElementById('code-results');
    return l && l.dataset.query === q && l.querySelectorAll('[role="option"]').length > 0;
  }, q);
}

export async function waitSaved(page) {
  await page.waitForFunction(() => /Draft saved/.test(document.getElementById('save-state')?.textContent || ''));
}

// privacy checks that no patient name is in the title or URL, and that
// nothing was put in browser storage.
export async function privacy(page, names) {
  const title = await page.title();
  const url = decodeURIComponent(page.url());
  for (const n of names) {
    assert.ok(!title.includes(n), `page title names a patient: ${title}`);
    assert.ok(!url.includes(n), `URL names a patient: ${url}`);
  }
  const stored = await page.evaluate(() => localStorage.length + sessionStorage.length);
  assert.equal(stored, 0, 'the workbench put data in browser storage');
}

export async function api(base, method, p, token, body) {
  const r = await fetch(new URL(p, base), {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p} = ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const itemID = (page) => new URL(page.url()).pathname.split('/').filter(Boolean).pop();
