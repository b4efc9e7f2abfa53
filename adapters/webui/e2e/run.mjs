// Browser end-to-end suite of the codebridge coder workbench, driven by
// TestWorkbenchE2E (cmd/codebridge), which starts codebridge on a
// throwaway database with the sample charts and passes:
//
//   CB_URL          the workbench server (15-minute idle timeout)
//   CB_SHORT_URL    a second server on the same database with a short idle
//                   timeout, for the automatic log-off scenario
//   CB_TOKENS       JSON {"coder","coder2","auditor","ehr"} tokens
//   CB_PATIENTS     JSON list of the patient names (never in titles/URLs)
//   CB_SCREENSHOTS  where to save a screenshot of each screen (optional)
//   CB_CHROMIUM     the browser (default /usr/bin/chromium)
//
// Queue order set by the harness: ED visit (taken by coder2 for the idle
// scenario), telehealth visit, office visit, inpatient stay.
import assert from 'node:assert/strict';
import { Suite, launch, signIn, tabTo, focused, focusOn, typeSearch, waitSaved, privacy, api, itemID } from './lib.mjs';

const base = process.env.CB_URL;
const shortBase = process.env.CB_SHORT_URL;
const tokens = JSON.parse(process.env.CB_TOKENS || '{}');
const patients = JSON.parse(process.env.CB_PATIENTS || '[]');
assert.ok(base && tokens.coder, 'CB_URL and CB_TOKENS are required');

const suite = new Suite(process.env.CB_SCREENSHOTS);
const browser = await launch();

const value = (page, sel) => page.$eval(sel, (e) => e.value);
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

// coderDay: sign in, take the next chart, code it by keyboard only (an
// error edit appears and clears), see submit refused, submit, see the
// Claim issued.
async function coderDay(page) {
  const ok = async (name, fn) => { if (!(await suite.step(name, fn))) throw new Error('stopped after: ' + name); };
  await ok('sign-in page is accessible', async () => {
    await page.goto('/ui/login');
    await suite.a11y(page, 'sign-in');
    await suite.shot(page, '01-sign-in');
  });
  await ok('coder signs in with the keyboard and sees the worklist', async () => {
    await signIn(page, tokens.coder);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    assert.equal(await page.title(), 'Worklist · codebridge workbench');
    await page.waitForSelector('table.worklist tbody tr');
    await suite.a11y(page, 'worklist');
    await privacy(page, patients);
    await suite.shot(page, '02-worklist');
  });
  await ok('"n" takes the next chart', async () => {
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/\/ui\/items\/[^/?]+$/), page.keyboard.press('n')]);
    await page.waitForSelector('#code-pane');
    assert.match(await text(page, 'h1'), /Ana Rivera/);
    assert.equal(await page.title(), 'Chart · codebridge workbench');
    await privacy(page, patients);
    assert.ok((await page.locator('mark').count()) > 0, 'no evidence highlighted in the note');
    await suite.a11y(page, 'chart');
    await suite.shot(page, '03-chart');
  });
  await ok('search and add a code by keyboard; its error edit appears', async () => {
    await page.keyboard.press('/');
    assert.equal(await focused(page), 'code-q');
    await typeSearch(page, 'J20');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getAttribute('#code-q', 'aria-activedescendant'), 'code-opt-0');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('dx-0-code')?.value === 'J20');
    await page.waitForFunction(() => /DX_HEADER/.test(document.getElementById('edits').textContent));
    await focusOn(page, 'code-q'); // back on the search, to go on typing
    await suite.a11y(page, 'chart with an error edit');
    await suite.shot(page, '04-chart-edit-error');
  });
  await ok('submit is refused while the error stands', async () => {
    await tabTo(page, '#review-button');
    await Promise.all([page.waitForURL(/\/review$/), page.keyboard.press('Enter')]);
    await page.waitForSelector('#cannot-submit');
    assert.equal(await page.locator('#submit-button').count(), 0);
    await suite.a11y(page, 'review (refused)');
    await suite.shot(page, '05-review-refused');
    await tabTo(page, '#back-to-chart');
    await Promise.all([page.waitForURL(/\/ui\/items\/[^/]+$/), page.keyboard.press('Enter')]);
  });
  await ok('fixing the code clears the edit (live)', async () => {
    await page.waitForSelector('#dx-0-code');
    await tabTo(page, '#dx-0-code');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('J20.9');
    await page.waitForFunction(() => !/DX_HEADER/.test(document.getElementById('edits').textContent));
    await waitSaved(page);
  });
  await ok('a guideline edit names its rule beside the codes; the coder opens its words by keyboard', async () => {
    await tabTo(page, '#dx-0-code');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('W19.XXXA'); // an external cause code first-listed (Official Guidelines I.C.20)
    await page.waitForFunction(() => /GL_EXTERNAL_CAUSE_FIRST/.test(document.getElementById('edits').textContent));
    await waitSaved(page);
    const rule = page.locator('#edits .edit').filter({ hasText: 'GL_EXTERNAL_CAUSE_FIRST' }).locator('.edit-rule');
    assert.match(await rule.locator('cite').textContent(), /^ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I\.C\.20$/);
    assert.equal(await rule.locator('blockquote').isVisible(), false);
    await tabTo(page, '#edits details.rule-text summary');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#edits details.rule-text')?.open === true);
    assert.match(await rule.locator('blockquote').textContent(), /never be sequenced as the first-listed or principal diagnosis/);
    assert.equal(await rule.locator('blockquote').isVisible(), true);
    await suite.a11y(page, 'chart with a guideline edit, its rule open');
    await tabTo(page, '#dx-0-code', { back: true });
    await page.keyboard.press('Control+A');
    await page.keyboard.type('J20.9');
    await page.waitForFunction(() => !/GL_EXTERNAL_CAUSE_FIRST/.test(document.getElementById('edits').textContent));
    await waitSaved(page);
  });
  await ok('add a second diagnosis and a CPT line with a modifier, by keyboard', async () => {
    await tabTo(page, '#code-q');
    await typeSearch(page, 'I10');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('dx-1-code')?.value === 'I10');
    await focusOn(page, 'code-q');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'code-system');
    await page.keyboard.press('c'); // select type-ahead: CPT services
    assert.equal(await value(page, '#code-system'), 'cpt');
    await page.keyboard.press('Tab');
    await typeSearch(page, '99213');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('ln-0-code')?.value === '99213');
    await focusOn(page, 'code-q');
    assert.equal(await value(page, '#ln-0-ptrs'), '1, 2');
    await tabTo(page, '#ln-0-mods');
    await page.keyboard.type('95');
    await waitSaved(page);
  });
  await ok('Alt+ArrowUp / Alt+ArrowDown resequence diagnoses; pointers follow', async () => {
    await tabTo(page, '#dx-1-code');
    await page.keyboard.press('Alt+ArrowUp');
    await page.waitForFunction(() => document.getElementById('dx-0-code')?.value === 'I10');
    await page.waitForFunction(() => /principal/.test(document.getElementById('status').textContent));
    assert.equal(await value(page, '#ln-0-ptrs'), '2, 1');
    await focusOn(page, 'dx-0-code');
    await page.keyboard.press('Alt+ArrowDown');
    await page.waitForFunction(() => document.getElementById('dx-0-code')?.value === 'J20.9');
    assert.equal(await value(page, '#ln-0-ptrs'), '1, 2');
  });
  await ok('review shows what the Claim will say; submit issues the Claim', async () => {
    await tabTo(page, '#review-button');
    await Promise.all([page.waitForURL(/\/review$/), page.keyboard.press('Enter')]);
    await page.waitForSelector('#submit-button');
    const claim = await text(page, '#claim-h + dl');
    assert.match(claim, /Professional/);
    assert.match(await text(page, 'main'), /J20\.9[\s\S]*I10[\s\S]*99213/);
    await suite.a11y(page, 'review');
    await suite.shot(page, '06-review');
    if (await page.locator('#ack').count()) {
      await tabTo(page, '#ack');
      await page.keyboard.press('Space');
    }
    await tabTo(page, '#submit-button');
    await Promise.all([page.waitForURL(/\/review\?result=submitted$/), page.keyboard.press('Enter')]);
    assert.match(await text(page, '#claim-id'), /^Claim\/\S+$/);
    await suite.a11y(page, 'submitted');
    await suite.shot(page, '07-claim-issued');
  });
}

// queryRoundTrip: compose a compliant query (payment wording refused),
// the physician answers through the API, the answer shows on the chart.
async function queryRoundTrip(page) {
  let id;
  const ok = async (name, fn) => { if (!(await suite.step(name, fn))) throw new Error('stopped after: ' + name); };
  await ok('next chart, then "q" opens the query composer', async () => {
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/\/ui\/items\/[^/?]+$/), page.keyboard.press('n')]);
    id = itemID(page);
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/\/query$/), page.keyboard.press('q')]);
    await suite.a11y(page, 'query composer');
    await suite.shot(page, '08-query');
  });
  await ok('a query mentioning payment is refused', async () => {
    await page.check('#ind-0');
    await page.fill('#opt-0', 'Essential hypertension, controlled');
    await page.fill('#opt-1', 'Hypertensive urgency');
    await page.fill('#extra', 'BP 150/95 at two readings; affects DRG payment');
    await page.click('#send-query');
    await page.waitForSelector('#query-errors');
    assert.match(await text(page, '#query-errors'), /must not mention payment/);
    await suite.a11y(page, 'query composer (refused)');
  });
  await ok('a compliant query puts the chart on hold', async () => {
    await page.fill('#extra', 'BP 150/95 at two readings');
    await Promise.all([page.waitForURL(/msg=query-sent/), page.click('#send-query')]);
    assert.match(await text(page, '#item-status'), /On hold/);
    assert.match(await text(page, 'main'), /Other \/ clinically undetermined/);
  });
  await ok('the physician answers; the answer shows and the chart is back in the queue', async () => {
    const item = await api(base, 'GET', '/api/v1/work-items/' + id, tokens.coder);
    const qid = item.queries[0].id;
    await api(base, 'POST', `/api/v1/work-items/${id}/queries/${qid}/answer`, tokens.ehr, { answer: 'Essential hypertension, controlled' });
    await page.goto('/ui/items/' + id);
    assert.match(await text(page, '.answer-text'), /Essential hypertension, controlled/);
    assert.match(await text(page, '#item-status'), /Ready/);
    await suite.a11y(page, 'chart with answered query');
    await page.locator('#queries-h').scrollIntoViewIfNeeded();
    await suite.shot(page, '09-query-answered');
  });
}

// inpatient: the coder codes the inpatient stay (POA, ICD-10-PCS) from the
// EHR's suggestions; inpatient stays go to QA review.
async function inpatient(page) {
  const ok = async (name, fn) => { if (!(await suite.step(name, fn))) throw new Error('stopped after: ' + name); };
  await ok('coder codes the inpatient stay with POA and PCS; it goes to QA review', async () => {
    await page.goto('/ui/');
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/\/ui\/items\/[^/?]+$/), page.keyboard.press('n')]); // the answered chart, back on top
    await page.goto('/ui/');
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/\/ui\/items\/[^/?]+$/), page.keyboard.press('n')]); // the inpatient stay
    assert.match(await text(page, '.facts'), /IMP/);
    for (const [code, row] of [['K35.80', 'dx-0-code'], ['N39.0', 'dx-1-code'], ['E11.9', 'dx-2-code'], ['0DTJ4ZZ', 'px-0-code']]) {
      await page.click(`button[value$=":${code}"]`);
      await page.waitForFunction(([r, c]) => document.getElementById(r)?.value === c, [row, code]);
    }
    await page.selectOption('#dx-0-poa', 'Y');
    await page.selectOption('#dx-1-poa', 'N');
    await page.selectOption('#dx-2-poa', 'Y');
    await waitSaved(page);
    await page.waitForFunction(() => document.getElementById('dx-2-poa').value === 'Y');
    await Promise.all([page.waitForURL(/\/review$/), page.click('#review-button')]);
    if (await page.locator('#ack').count()) await page.check('#ack');
    await Promise.all([page.waitForURL(/\/review\?result=submitted$/), page.click('#submit-button')]);
    assert.match(await text(page, '#outcome'), /QA review/);
  });
}

// auditor: the auditor opens the stay, changes a POA indicator, completes
// the review (the change is recorded for accuracy), then reads the
// dashboards.
async function auditor(page) {
  const ok = async (name, fn) => { if (!(await suite.step(name, fn))) throw new Error('stopped after: ' + name); };
  await ok('auditor sees the stay in review and the coder\'s codes beside hers', async () => {
    await signIn(page, tokens.auditor);
    await page.waitForSelector('table.worklist tbody tr');
    await suite.a11y(page, 'worklist (auditor)');
    await Promise.all([page.waitForURL(/\/ui\/items\//), page.click('table.worklist tbody tr a')]);
    await page.waitForSelector('#audit-h');
    assert.match(await text(page, '#audit-changes'), /None/);
  });
  await ok('auditor changes a POA indicator; the change shows at once', async () => {
    await page.selectOption('#dx-1-poa', 'Y');
    await page.waitForFunction(() => /POA indicator changed/.test(document.getElementById('audit-changes').textContent));
    await suite.a11y(page, 'auditor view');
    await suite.shot(page, '10-auditor');
  });
  await ok('completing the review records the change and issues the Claim', async () => {
    await Promise.all([page.waitForURL(/\/review$/), page.click('#review-button')]);
    assert.match(await text(page, 'main'), /1 POA indicator changed/);
    if (await page.locator('#ack').count()) await page.check('#ack');
    await Promise.all([page.waitForURL(/\/review\?result=submitted$/), page.click('#submit-button')]);
    assert.match(await text(page, '#qa-result'), /changed by the auditor/);
    assert.match(await text(page, '#claim-id'), /^Claim\//);
    await suite.a11y(page, 'review completed');
    await suite.shot(page, '11-review-completed');
  });
  await ok('dashboards draw every report as an accessible SVG chart', async () => {
    await page.goto('/ui/dashboard');
    assert.equal(await page.locator('svg[role="img"]').count(), 6);
    await suite.a11y(page, 'dashboards');
    await suite.shot(page, '12-dashboards');
    // The error page (an item that does not exist) is a screen too.
    const res = await page.goto('/ui/items/no-such-item');
    assert.equal(res.status(), 404);
    await suite.a11y(page, 'error page');
  });
}

// settings: shortcuts can be switched off and remapped.
async function settings(page) {
  await suite.step('shortcuts can be switched off and remapped', async () => {
    await page.goto('/ui/settings');
    await suite.a11y(page, 'settings');
    await suite.shot(page, '13-settings');
    await page.uncheck('#shortcuts');
    await Promise.all([page.waitForURL(/saved=1/), page.click('form.card button[type="submit"]')]);
    await page.goto('/ui/');
    await page.locator('body').focus();
    await page.keyboard.press('n');
    await page.waitForTimeout(300);
    assert.equal(new URL(page.url()).pathname, '/ui/', '"n" acted while shortcuts were off');
    await page.goto('/ui/settings');
    await page.check('#shortcuts');
    await page.fill('#key-next', 'j');
    await Promise.all([page.waitForURL(/saved=1/), page.click('form.card button[type="submit"]')]);
    await page.goto('/ui/');
    assert.equal((await text(page, '#next-chart kbd')).trim(), 'j');
    await page.locator('body').focus();
    await Promise.all([page.waitForURL(/msg=none/), page.keyboard.press('j')]);
    assert.match(await text(page, 'main'), /No chart is ready for you/);
    await page.locator('body').focus();
    await page.keyboard.press('?');
    await page.waitForSelector('#shortcut-help[open]');
    assert.match(await text(page, '#shortcut-help'), /j\s*Take the next chart/);
    await suite.a11y(page, 'keyboard help');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.getElementById('shortcut-help').open);
  });
}

// idle: automatic log-off with a warning at least 20 s before and a way to
// extend; signing in again returns to the same chart with the draft as
// it was, including what could not be saved to the chart.
async function idle(page, leased) {
  const ok = async (name, fn) => { if (!(await suite.step(name, fn))) throw new Error('stopped after: ' + name); };
  let chartURL;
  try {
    await ok('second coder takes a chart on the short-timeout server', async () => {
      await signIn(page, tokens.coder2);
      await page.locator('body').focus();
      await Promise.all([page.waitForURL(/\/ui\/items\/[^/?]+$/), page.keyboard.press('n')]);
      chartURL = page.url();
    });
  } finally {
    leased();
  }
  await ok('draft with a value the chart cannot take yet', async () => {
    await page.keyboard.press('/');
    await typeSearch(page, 'R07.9');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('dx-0-code')?.value === 'R07.9');
    await page.selectOption('#code-system', 'cpt');
    await page.focus('#code-q');
    await typeSearch(page, '93010');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('ln-0-code')?.value === '93010');
    await page.selectOption('#dx-0-poa', 'Y');
    await page.fill('#ln-0-units', '2x');
    await page.waitForFunction(() => /units must be a whole number/.test(document.getElementById('field-errors').textContent));
  });
  await ok('the idle warning comes at least 20 s before log-off, and extends', async () => {
    await page.waitForSelector('#idle-warning[open]', { timeout: 30000 });
    const left = Number(await text(page, '#idle-countdown'));
    assert.ok(left >= 19, `warning shown only ${left} s before log-off`);
    await suite.a11y(page, 'idle warning');
    await suite.shot(page, '14-idle-warning');
    await page.click('#idle-extend');
    await page.waitForFunction(() => !document.getElementById('idle-warning').open);
  });
  await ok('after the idle timeout the user is signed out', async () => {
    await page.waitForURL(/\/ui\/login\?expired=1/, { timeout: 60000 });
    assert.match(await text(page, 'main'), /signed out after/);
    await suite.a11y(page, 'signed out');
    await suite.shot(page, '15-signed-out');
  });
  await ok('signing in again returns to the same chart with the draft intact', async () => {
    await signIn(page, tokens.coder2);
    assert.equal(page.url(), chartURL);
    assert.equal(await value(page, '#dx-0-code'), 'R07.9');
    assert.equal(await value(page, '#dx-0-poa'), 'Y');
    assert.equal(await value(page, '#ln-0-units'), '2x');
    await privacy(page, patients);
  });
}

// expectedSteps is how many steps the suite has: every one must run, so a
// scenario that stops early (or an exception outside a step) fails the run.
const expectedSteps = shortBase ? 26 : 21;
let stopped = 0; // scenarios ended by an exception, counted as failures
const stop = (scenario, e) => {
  stopped++;
  console.log(`FAIL ${scenario} stopped: ${e && e.stack ? e.stack : e}`);
};

let release;
const leasedOnce = new Promise((r) => { release = r; });
const idleRun = (async () => {
  if (!shortBase) {
    console.log('skip idle timeout scenario: CB_SHORT_URL not set');
    release();
    return;
  }
  const { page } = await suite.user(browser, shortBase, 'coder2');
  await idle(page, release).catch((e) => stop('idle timeout scenario', e));
})();
await leasedOnce;
try {
  const coder = await suite.user(browser, base, 'coder');
  await coderDay(coder.page);
  await queryRoundTrip(coder.page);
  await inpatient(coder.page);
  const aud = await suite.user(browser, base, 'auditor');
  await auditor(aud.page);
  await settings(coder.page);
  await suite.step('no PHI in browser storage', async () => {
    await privacy(coder.page, patients);
    await privacy(aud.page, patients);
  });
} catch (e) {
  stop('coder, query, inpatient and auditor scenarios', e);
}
await idleRun.catch((e) => stop('idle timeout scenario', e));
await browser.close();
const ran = suite.passed + suite.failed;
suite.failed += stopped;
if (ran !== expectedSteps) {
  suite.failed++;
  console.log(`FAIL ${ran} of ${expectedSteps} steps ran`);
}
for (const p of suite.problems) {
  suite.failed++;
  console.log('FAIL ' + p);
}
console.log(`${suite.passed} passed, ${suite.failed} failed, ${ran} of ${expectedSteps} steps ran`);
process.exit(suite.failed > 0 ? 1 : 0);
