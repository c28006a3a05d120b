// demo.mjs - the demo's incident in the console, in Chromium (playwright-core);
// started by tests/integration/demo/test_demo.sh against `make demo` with its
// story sped up.
//   PANE_URL   the demo's pane
//   PANE_TMP   a scratch directory (the browser profile goes there)
//   PANE_DEMO_SHOTS  optional: a directory for screenshots of the incident
//              (the service page, "What changed", the Overview) to look at
// While ServiceErrorRatioHigh fires for api: the api service's chart shows the
// bad deploy's marker and the alert's band; "What changed" over the spike
// lists the deploy first. The story repeats, so a cycle whose alert resolved
// before the page had it is retried (bounded). Waits are bounded polls on
// conditions, never sleeps of a guessed length.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const base = process.env.PANE_URL;
const tmp = process.env.PANE_TMP || fs.mkdtempSync('/tmp/pane-demo-browser-');
const ALERT = 'ServiceErrorRatioHigh';
const shots = process.env.PANE_DEMO_SHOTS;
const shot = async (page, name) => {
  if (shots) await page.screenshot({ path: path.join(shots, name + '.png') });
};

async function api(p) {
  const r = await fetch(base + p);
  return r.json();
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// the firing ServiceErrorRatioHigh of api, polled (bounded: several story cycles)
async function firing() {
  for (let i = 0; i < 1200; i++) {
    const a = await api('/api/v1/alerts').catch(() => null);
    const f = a && a.data.alerts.find((x) => x.labels.alertname === ALERT && x.labels.service === 'api' && x.state === 'firing');
    if (f) return f;
    await pause(250);
  }
  return null;
}
// the newest deploy of the bad release that went live at or before t (ms):
// { id, start (its first event), ts (live) }
async function badDeploy(t) {
  const sel = encodeURIComponent('{provider="render",service="api"}');
  const r = await api(`/api/v1/events?kind=deploy&limit=1000&end=${t / 1000 + 1}&selector=${sel}`);
  const evs = r.data.events;
  const live = evs.filter((e) => e.labels.status === 'live' && /discount engine/.test(e.title + JSON.stringify(e.body || {}))).sort((a, b) => b.ts - a.ts)[0];
  if (!live) return null;
  const start = Math.min(...evs.filter((e) => e.labels.deploy_id === live.labels.deploy_id).map((e) => e.ts));
  return { id: live.labels.deploy_id, start, ts: live.ts };
}

const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
ctx.setDefaultTimeout(20000);
const page = await ctx.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));

let result = null;
let last = '';
for (let attempt = 0; attempt < 4 && !result; attempt++) {
  const f = await firing();
  if (!f) {
    last = 'the alert never fired';
    break;
  }
  const active = Date.parse(f.activeAt);
  // the Render source collects every few seconds: its deploy may reach pane after the alert fired
  let dep = null;
  for (let i = 0; i < 120 && !dep; i++) {
    dep = await badDeploy(active);
    if (!dep) await pause(250);
  }
  if (!dep) {
    last = 'no live deploy of the bad release before the alert';
    continue;
  }
  const from = dep.start - 60e3, to = Date.now();
  try {
    await page.goto(`${base}/#/service/api?env=demo&from=${from}&to=${to}`);
    // the band is drawn from the alerts the page loaded: reload until it has
    // it, as long as the alert still fires (else the next cycle)
    await page.waitForSelector('.chart .u-over');
    const got = await page.waitForFunction(
      (id) => {
        const over = document.querySelector('.chart .u-over');
        const bands = [...over.querySelectorAll('.band')].map((e) => e.title);
        const markers = [...over.querySelectorAll('.marker')].map((e) => e.dataset.id);
        return bands.length && markers.includes(id) ? { bands, markers } : null;
      },
      dep.id,
      { polling: 200 },
    );
    const g = await got.jsonValue();
    await shot(page, 'demo-service');
    // what changed over the spike: from the deploy's start to the alert
    await page.goto(`${base}/#/changes?service=api&from=${dep.start - 1e3}&to=${active + 1e3}`);
    await page.waitForSelector('.changes-list li');
    const items = await page.$$eval('.changes-list li', (ls) => ls.map((l) => l.textContent));
    result = { bands: g.bands, markers: g.markers, first: items[0], items };
    await shot(page, 'demo-changes');
    if (shots) {
      await page.goto(`${base}/#/?from=${from}&to=${to}`);
      await page.waitForSelector('[data-testid="services"] tbody tr, table tbody tr');
      await pause(1500); // the rest of the page's queries (a picture only, nothing is asserted)
      await shot(page, 'demo-overview');
    }
  } catch (e) {
    last = e.message.split('\n')[0];
  }
}
await ctx.close();

let fails = 0;
const expect = (c, m) => {
  console.log((c ? 'ok: ' : 'FAIL: ') + m);
  if (!c) fails++;
};
expect(result, 'the api chart while the alert fires: ' + (result ? 'loaded' : last));
if (result) {
  expect(result.bands.some((b) => b.includes(ALERT + ' api')), 'an alert band for ' + ALERT + ' api: ' + JSON.stringify(result.bands));
  expect(result.markers.length > 0, 'the deploy marker is on the chart');
  expect(/deploy/.test(result.first) && /\bapi\b/.test(result.first) && /discount engine/.test(result.first), 'what changed lists the deploy first: ' + JSON.stringify(result.items.slice(0, 3)));
}
expect(!errors.length, 'no script errors: ' + errors.join('; '));
process.exit(fails ? 1 : 0);
