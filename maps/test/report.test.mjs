// The board's HTML report in headless Chromium (playwright-core): the page loads without console errors,
// its three charts render with visible bars and a line, the figures match the JSON report, the language
// switch works, and a screenshot is written to the path printed at the end.
//
//   LANDBANK_URL=http://127.0.0.1:8080 node maps/test/report.test.mjs
//
// Environment: LANDBANK_URL (required), CHROMIUM (default /usr/bin/chromium), REPORT_SCREENSHOT
// (default /tmp/landbank-report.png). Uses the demo: Hưng Yên on 2022-03-31, which has 2022 targets.

import { chromium } from 'playwright-core';

const BASE = (process.env.LANDBANK_URL || '').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.REPORT_SCREENSHOT || '/tmp/landbank-report.png';
const PATH = '/reports/provinces/VN-66?at=2022-03-31';

let passed = 0;
let failed = 0;
function ok(msg) { passed += 1; console.log(`ok   - ${msg}`); }
function fail(msg) { failed += 1; console.log(`FAIL - ${msg}`); }
function check(cond, msg) { if (cond) ok(msg); else fail(msg); }

if (!BASE) {
  console.error('set LANDBANK_URL to a served landbank with the demo data');
  process.exit(2);
}

const json = await (await fetch(`${BASE}${PATH}`, { headers: { Accept: 'application/json' } })).json();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const response = await page.goto(`${BASE}${PATH}&f=html`, { waitUntil: 'load' });
  check(response.status() === 200, `GET ${PATH}&f=html answered ${response.status()}`);
  check((await page.getAttribute('html', 'lang')) === 'vi', 'the report is in Vietnamese by default');
  check((await page.textContent('h1')).includes('Hưng Yên'), 'the title names Hưng Yên');

  for (const name of ['occupancy-by-zone', 'occupancy-over-time', 'targets']) {
    const box = await page.locator(`#chart-${name} svg`).boundingBox();
    check(box && box.width > 300 && box.height > 150, `chart ${name} is drawn (${box ? `${Math.round(box.width)}×${Math.round(box.height)}` : 'missing'})`);
  }
  // Bars are filled rectangles with a real size; the time series is a polyline or path with points.
  const bars = await page.$$eval('#chart-occupancy-by-zone svg rect', (rects) =>
    rects.filter((r) => { const b = r.getBBox(); return b.width > 2 && b.height > 4 && (r.getAttribute('fill') || '').toUpperCase() !== '#FFFFFF'; }).length);
  const inScope = json.zone_lines.filter((z) => z.in_scope && z.occupancy_pct > 0).length;
  check(bars >= inScope, `occupancy bars: ${bars} visible for ${inScope} zones with leases`);
  const line = await page.$$eval('#chart-occupancy-over-time svg polyline, #chart-occupancy-over-time svg path', (els) =>
    Math.max(0, ...els.map((e) => (e.getAttribute('points') || e.getAttribute('d') || '').split(/[ L]/).length)));
  check(line >= json.occupancy_series.length, `occupancy line has ${line} points for ${json.occupancy_series.length} quarters`);
  const targetText = await page.textContent('#chart-targets svg');
  for (const t of json.targets.lines) {
    const pct = `${Math.round(t.pct)} %`;
    check(targetText.includes(pct), `target chart shows ${t.metric} at ${pct}`);
  }
  // The tables say what the JSON says.
  const summary = await page.textContent('#table-summary');
  const occ = json.land.occupancy_pct.toFixed(2).replace('.', ',');
  check(summary.includes(`${occ} %`), `summary shows occupancy ${occ} %`);
  const targets = await page.textContent('#table-targets');
  check(targets.includes('120,00') && targets.includes('75,00 %'), 'targets table shows 120 ha and 75 % of jobs');

  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  await page.click('nav a');
  await page.waitForLoadState('load');
  check((await page.getAttribute('html', 'lang')) === 'en', 'the switch opens the English report');
  check((await page.textContent('#chart-targets svg')).includes('Progress against the plan'), 'charts are in English too');
  check(errors.length === 0, `no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`);
} catch (e) {
  fail(`unexpected: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(`report screenshot: ${SCREENSHOT}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
