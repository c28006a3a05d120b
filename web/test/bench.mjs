// bench.mjs - the console's budgets measured in Chromium (bench/run-console.sh).
//   PANE_URL  a pane with bench/console_data.py imported and 100,000 log lines pushed
// Prints one line per figure; the shell script writes the table.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const base = process.env.PANE_URL;
const tmp = fs.mkdtempSync(path.join(process.env.PANE_TMP || '/tmp', 'chromium-'));
const ctx = await chromium.launchPersistentContext(tmp, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
ctx.setDefaultTimeout(120000);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const page = await ctx.newPage();

// 1. everything shipped to the browser, gzipped as served
let shipped = 0;
{
  const r = await fetch(base + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  const html = await r.text();
  shipped += Number(r.headers.get('content-length') || html.length);
  for (const m of html.matchAll(/\/assets\/[a-z0-9.-]+/g)) {
    const a = await fetch(base + m[0], { headers: { 'Accept-Encoding': 'gzip' }, decompress: false });
    shipped += Number(a.headers.get('content-length'));
  }
}
console.log(`bundle_gzip_bytes ${shipped}`);

// 2. Overview with 50 services: navigation start -> every row drawn; API requests
const ov = [];
let reqs = 0;
for (let i = 0; i < 5; i++) {
  const urls = [];
  const on = (r) => /\/(api|v1)\//.test(r.url()) && urls.push(r.url());
  page.on('request', on);
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(`${base}/#/overview?from=-6h&to=now`);
  await page.waitForFunction(() => document.querySelector('table.services[data-ready="1"]') && document.querySelectorAll('tr[data-service]').length >= 50, null, { polling: 'raf' });
  const ms = await page.evaluate(() => performance.now());
  ov.push(ms);
  page.off('request', on);
  reqs = urls.length;
  if (i === 0) console.log(`overview_wall_ms ${Date.now() - t0}`);
}
console.log(`overview_ms_median ${median(ov).toFixed(0)} (runs: ${ov.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`overview_api_requests ${reqs}`);

// 3. one chart of 50 series x 5,760 points (24 h at 15 s) = 288,000 points
const draws = [];
for (let i = 0; i < 5; i++) {
  await page.goto('about:blank');
  await page.goto(`${base}/#/explore?q=${encodeURIComponent('bench_points')}&from=-24h&to=now`);
  await page.waitForFunction(() => performance.getEntriesByName('pane-chart-draw').length > 0, null, { polling: 100 });
  const d = await page.evaluate(() => {
    const e = performance.getEntriesByName('pane-chart-draw')[0];
    return { ms: e.duration };
  });
  draws.push(d.ms);
}
console.log(`chart_288k_draw_ms_median ${median(draws).toFixed(1)} (runs: ${draws.map((x) => x.toFixed(1)).join(' ')})`);

// 4. 100,000 log lines in the virtualised list: load them (scrolling to the
// end pages in 1,000 at a time), then scroll through and time the frames
await page.goto('about:blank');
await page.goto(`${base}/#/logs?sel=${encodeURIComponent('{service="bench"}')}&from=-24h&to=now`);
await page.waitForSelector('.vlist .logline');
for (let k = 0; k < 400; k++) {
  const n = await page.evaluate(() => {
    const v = document.querySelector('.vlist');
    v.scrollTop = v.scrollHeight;
    v.dispatchEvent(new Event('scroll'));
    return parseFloat(document.querySelector('.vspace').style.height) / 22;
  });
  if (n >= 100000) break;
  await page.waitForFunction((n) => parseFloat(document.querySelector('.vspace').style.height) / 22 > n || parseFloat(document.querySelector('.vspace').style.height) / 22 >= 100000, n, { polling: 50 });
}
const scroll = await page.evaluate(async () => {
  const v = document.querySelector('.vlist');
  v.scrollTop = 0;
  const frames = [];
  let last = performance.now();
  const n = parseFloat(document.querySelector('.vspace').style.height) / 22;
  for (let i = 0; i < 300; i++) {
    v.scrollTop = (i / 300) * v.scrollHeight;
    await new Promise((r) => requestAnimationFrame(r));
    const t = performance.now();
    frames.push(t - last);
    last = t;
  }
  frames.sort((a, b) => a - b);
  // wheel-like: 400 px per frame (about 18 lines)
  const wheel = [];
  v.scrollTop = v.scrollHeight / 3;
  await new Promise((r) => requestAnimationFrame(r));
  last = performance.now();
  for (let i = 0; i < 200; i++) {
    v.scrollTop += 400;
    await new Promise((r) => requestAnimationFrame(r));
    const t = performance.now();
    wheel.push(t - last);
    last = t;
  }
  wheel.sort((a, b) => a - b);
  // the same loop without scrolling: what a frame costs on this machine anyway
  const idle = [];
  last = performance.now();
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    const t = performance.now();
    idle.push(t - last);
    last = t;
  }
  idle.sort((a, b) => a - b);
  return {
    idle50: idle[60],
    wheel50: wheel[100],
    wheel95: wheel[190], n, rows: document.querySelectorAll('.vlist .logline').length, p50: frames[150], p95: frames[285], max: frames[299] };
});
console.log(`logs_loaded ${scroll.n}`);
console.log(`logs_rows_in_dom ${scroll.rows}`);
console.log(`logs_wheel_frame_ms p50 ${scroll.wheel50.toFixed(1)} p95 ${scroll.wheel95.toFixed(1)}`);
console.log(`logs_jump_frame_ms p50 ${scroll.p50.toFixed(1)} p95 ${scroll.p95.toFixed(1)} max ${scroll.max.toFixed(1)} (idle frame p50 ${scroll.idle50.toFixed(1)})`);
await ctx.close();
fs.rmSync(tmp, { recursive: true, force: true });
