// browser.mjs - the console in Chromium (playwright-core), against a running
// pane with the demo's data; started by tests/integration/console/test_browser.sh.
//   PANE_URL        the demo pane (loopback, open reads)
//   PANE_AUTH_URL   a pane that wants a token; PANE_TOKEN is one
//   PANE_TMP        a scratch directory (the browser profile goes there)
//   PANE_CONSOLE_SHOTS  when set, screenshots of each page go to this directory
// Waits are bounded polls on conditions (page.waitForFunction), never sleeps.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const base = process.env.PANE_URL;
const authBase = process.env.PANE_AUTH_URL;
const token = process.env.PANE_TOKEN;
const shots = process.env.PANE_CONSOLE_SHOTS || '';
const tmp = process.env.PANE_TMP || fs.mkdtempSync('/tmp/pane-browser-');
let checks = 0,
  fails = 0;
const ok = () => checks++;
const bad = (m) => {
  checks++;
  fails++;
  console.log('FAIL: ' + m);
};
const expect = (cond, m) => (cond ? ok() : bad(m));

async function api(p, init) {
  const r = await fetch(base + p, init);
  return r.json();
}

const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
// a bound on waiting, not a performance budget: under ASan on a loaded
// 2-core machine a pane answer can take seconds (bench/run-console.sh measures speed)
ctx.setDefaultTimeout((process.env.PANE_BIN || '').includes('asan') ? 90000 : 45000);
const page = await ctx.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
// 4xx answers are part of the tests (a bad query, no token, optional APIs
// not configured) and the pages show them; a server error or a script
// exception is a failure
page.on('response', (r) => r.status() >= 500 && errors.push(`${r.status()} from ${r.url()}`));
const requests = [];
page.on('request', (r) => requests.push(r.url()));
if (shots) fs.mkdirSync(shots, { recursive: true });
async function shot(name) {
  if (shots) await page.screenshot({ path: path.join(shots, name + '.png') });
}

// count of non-transparent pixels of a canvas
async function inked(selector) {
  return page.evaluate((sel) => {
    let best = 0;
    for (const c of document.querySelectorAll(sel)) {
      const g = c.getContext('2d');
      if (!g || !c.width || !c.height) continue;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      best = Math.max(best, n);
    }
    return best;
  }, selector);
}

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    bad(`${name}: ${e.message.split('\n').slice(0, 4).join(' | ')}`); // the call log names the selector
    if (shots) await page.screenshot({ path: path.join(shots, 'failed-' + name + '.png') }).catch(() => {});
  }
}

const now = Date.now();
const from = now - Number(process.env.PANE_WINDOW_MINUTES || 30) * 60e3;
const win = `from=${from}&to=${now}`;

// ---- the page itself: headers, CSP, bundle cached forever, gzip ----
await step('index', async () => {
  const r = await fetch(base + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  expect(r.status === 200, 'GET / status ' + r.status);
  expect(/no-store/.test(r.headers.get('cache-control') || ''), 'index.html must not be cached');
  expect(/script-src 'self'/.test(r.headers.get('content-security-policy') || ''), 'CSP on /');
  const html = await r.text();
  const js = /\/assets\/(app-[0-9a-f]+\.js)/.exec(html);
  expect(!!js, 'index.html names a content-hashed bundle');
  if (js) {
    const a = await fetch(base + '/assets/' + js[1]);
    expect(a.status === 200 && /immutable/.test(a.headers.get('cache-control') || ''), 'the bundle is cached forever');
  }
});

// ---- Overview ----
await step('overview', async () => {
  // svc-0 also sends its own metrics (provider "app"): still one row, with both providers
  await push(`console_app_probe{provider="app",service="svc-0",environment="demo"} 1 ${now - 60e3}\n`, 'count(last_over_time(console_app_probe[10m]))', 1);
  requests.length = 0;
  await page.goto(`${base}/#/overview?${win}`);
  await page.waitForSelector('tr[data-service="svc-0"]');
  await page.waitForFunction(() => [...document.querySelectorAll('tr[data-service="svc-0"] .tag')].some((e) => e.textContent === 'app'));
  const svc0 = await page.$$eval('tr[data-service="svc-0"]', (rs) => rs.map((r) => [...r.querySelectorAll('.tag')].map((t) => t.textContent)));
  expect(svc0.length === 1 && svc0[0].join(',') === 'app,render', 'svc-0 is one row with the providers app and render: ' + JSON.stringify(svc0));
  await page.waitForFunction(() => [...document.querySelectorAll('tr[data-service="svc-0"] .num')].some((e) => e.textContent !== '—'));
  const sp = await inked('tr[data-service="svc-0"] canvas.spark');
  expect(sp > 20, 'overview sparklines of svc-0 are drawn (' + sp + ' px)');
  const apiCalls = requests.filter((u) => /\/(api|v1)\//.test(u));
  expect(apiCalls.length <= 6, `overview made ${apiCalls.length} API requests (budget 6): ${apiCalls.join(' ')}`);
  const text = await page.textContent('main');
  expect(/Sentry issues/i.test(text) && /Queues/i.test(text) && /Supabase/i.test(text), 'overview shows Sentry, queues and Supabase');
  await shot('overview');
});

// svc-0's deploys in the window: deploy id -> its first event's time (and,
// in ended, the ids whose first event there is their deactivation: they only
// ended in the window, and get no marker)
const ended = new Set();
async function deploysNow() {
  const evs = await api(`/api/v1/events?kind=deploy&limit=1000&start=${from / 1000}&end=${now / 1000}&selector=${encodeURIComponent('{service="svc-0"}')}`);
  const first = new Map();
  for (const e of evs.data.events)
    if (!first.has(e.labels.deploy_id) || e.ts < first.get(e.labels.deploy_id)) {
      first.set(e.labels.deploy_id, e.ts);
      if (e.labels.status === 'deactivated') ended.add(e.labels.deploy_id);
      else ended.delete(e.labels.deploy_id);
    }
  return first;
}

// ---- Service: charts, deploy markers at the deploy times, hover moves the logs ----
await step('service', async () => {
  const before = await deploysNow();
  await page.goto(`${base}/#/service/svc-0?env=demo&${win}`);
  await page.waitForSelector('.chart .u-over');
  await page.waitForFunction(() => document.querySelectorAll('.sidelogs .logline').length > 0);
  const px = await inked('.chart canvas');
  expect(px > 200, 'service charts are drawn (' + px + ' px)');

  // deploy markers: one per deploy at its first event, at x = (t - from) / (to - from) * width.
  // The simulation keeps deploying: the markers must hold every deploy known
  // before the page loaded and only deploys known after it.
  const got = await page.evaluate(() => {
    const over = document.querySelector('.chart .u-over');
    return {
      w: over.clientWidth,
      m: [...over.querySelectorAll('.marker')].map((e) => ({ id: e.dataset.id, ts: Number(e.dataset.ts), left: parseFloat(e.style.left) })),
    };
  });
  const after = await deploysNow();
  expect(before.size > 0, 'the demo has deploys of svc-0');
  for (const id of before.keys()) if (!ended.has(id)) expect(got.m.some((m) => m.id === id), 'a marker for deploy ' + id);
  for (const id of ended) expect(!got.m.some((m) => m.id === id), 'no marker for deploy ' + id + ', which only ended in the window');
  for (const m of got.m) {
    expect(after.has(m.id) && after.get(m.id) === m.ts, `marker ${m.id} at ${m.ts} is a deploy's time (${after.get(m.id)})`);
    const x = ((m.ts - from) / (now - from)) * got.w;
    expect(Math.abs(x - m.left) <= 2, `marker for ${m.ts} at ${m.left}px, want ${x.toFixed(1)}px`);
  }

  // hovering the chart puts the cursor on the logs: the line at or before that moment
  const box = await page.locator('.chart .u-over').first().boundingBox();
  // hot line for a cursor at fraction fx of the plot: the newest line at or
  // before that moment (within a step), once the page has the lines around it
  const hotAt = async (fx) => {
    const t = from + (now - from) * fx;
    await page.mouse.move(box.x + box.width * fx, box.y + box.height / 2);
    const h = await page.waitForFunction(
      (t) => {
        const h = document.querySelector('.sidelogs .logline.hot');
        if (!h) return null;
        const ts = Number(h.dataset.ts);
        const all = [...document.querySelectorAll('.sidelogs .logline')].map((e) => Number(e.dataset.ts));
        // at or before t (+ one chart step of slack), or the oldest line when all are newer
        if (ts > t + 60e3 && ts !== Math.min(...all)) return null;
        const list = document.querySelector('.sidelogs .vlist').getBoundingClientRect();
        const r = h.getBoundingClientRect();
        return { ts, visible: r.top >= list.top - 1 && r.bottom <= list.bottom + 1 };
      },
      t,
      { polling: 100 },
    );
    return h.jsonValue();
  };
  const a = await hotAt(0.97);
  const b = await hotAt(0.6);
  expect(a.visible && b.visible, 'the hot log line is scrolled into view');
  expect(a.ts > b.ts, `moving the cursor left moves the logs to older lines (${b.ts} < ${a.ts})`);
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await shot('service');
  await page.mouse.move(0, 0);
});

// ---- Explore: completion, chart, errors where they are ----
await step('explore', async () => {
  await page.goto(`${base}/#/explore?${win}`);
  const ta = page.locator('textarea');
  await ta.click();
  await ta.pressSequentially('render_cpu_us');
  await page.waitForSelector('.suggest li:has-text("render_cpu_usage_cores")');
  ok();
  await ta.press('Tab');
  expect((await ta.inputValue()) === 'render_cpu_usage_cores', 'Tab completes the metric name: ' + (await ta.inputValue()));
  await ta.pressSequentially('{serv');
  await page.waitForSelector('.suggest li:has-text("service")');
  ok();
  await ta.press('Tab');
  await ta.pressSequentially('="svc-');
  await page.waitForSelector('.suggest li:has-text("svc-0")');
  ok();
  await ta.fill('sum by (service) (render_cpu_usage_cores)');
  await ta.press('Enter');
  await page.waitForSelector('.chart .u-over');
  await page.waitForFunction(() => document.querySelectorAll('table.grid tbody tr').length > 0);
  const px = await inked('.chart canvas');
  expect(px > 100, 'explore chart drawn (' + px + ' px)');
  await shot('explore');
  await ta.fill('sum(rate(render_cpu_usage_cores[5m])');
  await ta.press('Enter');
  await page.waitForSelector('.queryerr');
  expect(/parse error|unclosed|expected/i.test(await page.textContent('.queryerr')), 'a bad query shows the parser error');
});

// ---- Explore, filter "unlabelled": series lacking provider/service/environment ----
// pushes its own series through /api/v1/import/prometheus (with and without
// the labels) and polls the query API until pane holds them
async function push(text, query, want) {
  const r = await fetch(base + '/api/v1/import/prometheus', { method: 'POST', body: text });
  expect(r.status < 300, 'import/prometheus answers ' + r.status);
  for (let i = 0; i < 200; i++) {
    const q = await api('/api/v1/query?' + new URLSearchParams({ query }));
    if (q.data && q.data.result.length && Number(q.data.result[0].value[1]) >= want) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  bad(`pane did not hold the pushed series (${query} < ${want})`);
}
const cells = (metric) =>
  page.evaluate((m) => Object.fromEntries([...document.querySelectorAll(`tr[data-metric="${m}"] td[data-lacks]`)].map((td) => [td.dataset.lacks, Number(td.dataset.n)])), metric);
await step('unlabelled', async () => {
  // a window up to now: the series are pushed after the test's fixed window ended
  const win = 'from=-1h';
  await push(
    [
      'console_unlabelled_probe{provider="test",service="svc-probe"} 1', // lacks environment
      'console_unlabelled_probe{provider="test"} 2', // lacks service and environment
      'console_unlabelled_probe{provider="test",service="svc-probe",environment="demo"} 3', // labelled
      'console_labelled_probe{provider="test",service="svc-probe",environment="demo"} 4',
      '',
    ].join('\n'),
    'count({__name__=~"console_(un)?labelled_probe"})',
    4,
  );
  await page.goto(`${base}/#/explore?filter=unlabelled&${win}`);
  await page.waitForSelector('tr[data-metric="console_unlabelled_probe"]');
  const c = await cells('console_unlabelled_probe');
  expect(c.provider === 0 && c.service === 1 && c.environment === 2, 'counts of console_unlabelled_probe lacking provider/service/environment are 0/1/2: ' + JSON.stringify(c));
  expect((await page.locator('tr[data-metric="console_labelled_probe"]').count()) === 0, 'a metric whose series carry all three labels is not listed');
  expect((await page.getAttribute('nav.top a[href^="#/explore"]', 'aria-current')) === 'page', 'the filter is under Explore in the navigation');
  expect((await page.getAttribute('.tabs a.tab.on', 'href')).includes('filter=unlabelled'), 'the "Unlabelled series" tab is on');
  await page.waitForSelector('[data-testid="unlabelled-summary"]');
  expect(/lack service/.test(await page.textContent('[data-testid="unlabelled-summary"]')), 'the summary names the labels lacked');
  await page.waitForSelector('table.unlabelled-series tbody tr');
  await shot('unlabelled');

  // a metric name opens its series, each saying which labels it lacks
  await page.click('tr[data-metric="console_unlabelled_probe"] td:first-child a');
  await page.waitForFunction(() => location.hash.includes('metric=console_unlabelled_probe'));
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('table.unlabelled-series tbody tr')];
    return rows.length > 0 && rows.every((r) => r.textContent.includes('console_unlabelled_probe'));
  });
  const rows = await page.$$eval('table.unlabelled-series tbody tr', (rs) => rs.map((r) => ({ lacks: r.dataset.lacks, text: r.textContent })));
  expect(rows.length === 2, 'console_unlabelled_probe has 2 series without a label: ' + rows.length);
  expect(
    rows.map((r) => r.lacks).sort().join(' ') === 'environment service,environment',
    'each series says which labels it lacks: ' + rows.map((r) => r.lacks).join(' '),
  );
  expect(!rows.some((r) => r.text.includes('environment="demo"')), 'the labelled series of the metric is not listed');

  // empty: every series of the metric carries the labels (typed into the filter, / focuses it)
  await page.keyboard.press('/');
  await page.fill('input[data-search]', 'console_labelled_probe');
  await page.press('input[data-search]', 'Enter');
  await page.waitForFunction(() => location.hash.includes('metric=console_labelled_probe'));
  await page.waitForSelector('[data-testid="all-labelled"]');
  expect(/carries provider, service and environment/.test(await page.textContent('[data-testid="all-labelled"]')), 'the empty state says every series carries the labels');
  expect((await page.locator('table.unlabelled-names, table.unlabelled-series').count()) === 0, 'the empty state shows no table');

  // bounded: 205 series of one name (200 shown, "there are more"), 101 names (100 shown)
  const many = [];
  for (let i = 0; i < 205; i++) many.push(`console_unlabelled_many{i="${i}"} ${i}`);
  for (let i = 0; i < 101; i++) many.push(`console_unl_name_${String(i).padStart(3, '0')}{provider="test"} ${i}`);
  await push(many.join('\n') + '\n', 'count({__name__=~"console_unlabelled_many|console_unl_name_.*"})', 306);
  await page.goto(`${base}/#/explore?filter=unlabelled&metric=console_unlabelled_many&${win}`);
  await page.waitForSelector('tr[data-metric="console_unlabelled_many"]');
  const cm = await cells('console_unlabelled_many');
  expect(cm.provider === 205 && cm.service === 205 && cm.environment === 205, 'the counts are not cut: ' + JSON.stringify(cm));
  await page.waitForSelector('table.unlabelled-series tbody tr');
  expect((await page.locator('table.unlabelled-series tbody tr').count()) === 200, 'the series list stops at 200');
  expect(/there are more/.test(await page.textContent('[data-testid="series-note"]')), 'the list says it is cut');
  await page.goto(`${base}/#/explore?filter=unlabelled&metric=${encodeURIComponent('console_unl_name_.*')}&${win}`);
  // only a hash change: the previous metric's tables stay until the new answers arrive, so wait
  // for rows of the new ones (a bare 'tbody tr' matched the old table on a loaded machine)
  await page.waitForSelector('table.unlabelled-names tbody tr[data-metric^="console_unl_name_"]');
  await page.waitForSelector('table.unlabelled-series tbody tr:has-text("console_unl_name_")');
  expect((await page.locator('table.unlabelled-names tbody tr').count()) === 100, 'the metric names stop at 100');
  expect(/first 100 of 101/.test(await page.textContent('main')), 'the table says it shows 100 of 101 names');
  expect((await page.locator('table.unlabelled-series tbody tr').count()) === 101, 'the 101 series are all listed');
  expect(!/there are more/.test(await page.textContent('[data-testid="series-note"]')), 'a list that is not cut does not say so');

  // g u goes there from any page
  await page.goto(`${base}/#/overview?${win}`);
  await page.waitForSelector('nav.top');
  await page.keyboard.press('g');
  await page.keyboard.press('u');
  await page.waitForSelector('.unlabelled tr[data-metric]');
  ok();
});

// ---- Logs: filters, histogram, lines around a hit, virtualised ----
await step('logs', async () => {
  await page.goto(`${base}/#/logs?sel=${encodeURIComponent('{provider="render"}')}&${win}`);
  await page.waitForSelector('.vlist .logline');
  const n = await page.locator('.vlist .logline').count();
  const total = await page.evaluate(() => document.querySelector('.vspace').style.height);
  expect(n > 0 && n < 200, `the list renders only rows in view (${n} in the DOM, space ${total})`);
  expect((await page.locator('.hseg').count()) > 0, 'the severity histogram has bars');
  await page.locator('.vlist .logline').first().click();
  await page.waitForSelector('.around .logline.hot');
  ok();
  await shot('logs');
  await page.fill('input[data-search]', 'GET /api/items');
  await page.press('input[data-search]', 'Enter');
  await page.waitForFunction(() => location.hash.includes('search=GET'));
  await page.waitForFunction(() => {
    const ls = [...document.querySelectorAll('.vlist .logline .msgtext')];
    return ls.length > 0 && ls.every((l) => l.textContent.includes('GET /api/items'));
  });
  ok();
});

// ---- Queue: retry and cancel act and show their result ----
await step('queue', async () => {
  const enq = await api('/v1/queues/browser/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ payload: { test: 'cancel me' }, delay: 3600 }) });
  const id = enq.id;
  await page.goto(`${base}/#/queue?queue=browser&job=${id}`);
  await page.waitForSelector(`tr[data-job="${id}"]`);
  await page.waitForSelector('.job[data-state="available"]');
  await page.click('button[data-action="cancel"]');
  await page.waitForSelector('[data-testid="action-result"]:has-text("cancelled")');
  const j1 = await api('/v1/jobs/' + id);
  expect(j1.state === 'cancelled', 'cancel: the job is ' + j1.state);
  await page.waitForSelector('.job[data-state="cancelled"]');
  await page.click('button[data-action="retry"]');
  await page.waitForSelector('[data-testid="action-result"]:has-text("available")');
  const j2 = await api('/v1/jobs/' + id);
  expect(j2.state === 'available', 'retry: the job is ' + j2.state);
  await page.waitForSelector('.job[data-state="available"]');
  await shot('queue');
  await api(`/v1/jobs/${id}/cancel`, { method: 'POST' });
});

// ---- Alerts: loads; says what is not configured ----
await step('alerts', async () => {
  await page.goto(`${base}/#/alerts`);
  await page.waitForSelector('h2:has-text("Rules")');
  await page.waitForFunction(() => !document.body.textContent.includes('loading'));
  const t = await page.textContent('main');
  expect(/rules:|rule groups|Rules/.test(t), 'alerts page names the rules');
  await shot('alerts');
  // silence an alert from its row (matchers filled in), see it listed, expire it
  await page.locator('[data-action="silence"]').first().click();
  await page.waitForSelector('form.silence');
  expect((await page.inputValue('input[aria-label="matcher alertname"]')) === 'ConsoleTestAlert', 'the silence form has the alert\'s matchers');
  await page.fill('input[aria-label="comment"]', 'browser test');
  await page.click('form.silence button[type="submit"]');
  await page.waitForSelector('text=silence created');
  const row = page.locator('tr[data-silence]').filter({ hasText: 'browser test' });
  await row.waitFor();
  expect(/active/.test(await row.textContent()), 'the new silence is listed as active');
  await row.locator('[data-action="expire"]').click();
  await page.waitForSelector('text=/silence .* expired/');
  const api = await page.evaluate(async () => (await fetch('/api/v2/silences')).json());
  expect(api.some((x) => x.comment === 'browser test' && x.status.state === 'expired'), 'the silence is expired in /api/v2/silences');
});

// ---- What changed: the sections, log patterns and moved series ----
await step('changes', async () => {
  await page.goto(`${base}/#/changes?service=svc-0&${win}`);
  await page.waitForSelector('h2:has-text("Series that moved most")');
  await page.waitForFunction(() => document.querySelector('.changes-list li') || document.querySelectorAll('.empty').length >= 3);
  const t = await page.textContent('main');
  expect(/Deploys and releases/.test(t) && /Log patterns/.test(t), 'what changed lists its sections');
  await shot('changes');
});

// ---- Dark theme ----
await step('theme', async () => {
  await page.goto(`${base}/#/overview?${win}`);
  await page.waitForSelector('tr[data-service]');
  await page.click('button[aria-label="switch theme"]');
  const th = await page.evaluate(() => document.documentElement.dataset.theme);
  expect(th === 'dark' || th === 'light', 'theme toggles: ' + th);
  if (th === 'dark') await shot('overview-dark');
  await page.click('button[aria-label="switch theme"]');
});

// ---- Keyboard: g l goes to Logs ----
await step('keyboard', async () => {
  await page.goto(`${base}/#/overview?${win}`);
  await page.waitForSelector('nav.top');
  await page.keyboard.press('g');
  await page.keyboard.press('l');
  await page.waitForFunction(() => location.hash.startsWith('#/logs'));
  ok();
});

// ---- A token is required when reads are not open ----
await step('token', async () => {
  const p2 = await ctx.newPage();
  await p2.goto(`${authBase}/#/overview`);
  await p2.waitForSelector('.modal input[type="password"]');
  ok();
  await p2.fill('.modal input[type="password"]', 'wrong-token-0123456789');
  await p2.press('.modal input[type="password"]', 'Enter');
  await p2.waitForSelector('.modal input[type="password"]');
  await p2.fill('.modal input[type="password"]', token);
  await p2.press('.modal input[type="password"]', 'Enter');
  await p2.waitForSelector('.modal', { state: 'detached' });
  await p2.waitForSelector('h2:has-text("Services")');
  const held = await p2.evaluate(() => sessionStorage.getItem('pane.token'));
  expect(held === token, 'the token is kept in the tab (sessionStorage)');
  await p2.close();
});

expect(errors.length === 0, 'no errors in the page: ' + errors.slice(0, 5).join(' | '));
await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(`${checks} checks, ${fails} failed`);
process.exit(fails ? 1 : 0);
