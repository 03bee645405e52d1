// End-to-end check of the web map at $LANDBANK_URL/maps/ in headless Chromium (playwright-core).
//
//   LANDBANK_URL=http://127.0.0.1:8097 node maps/test/map.test.mjs
//
// Environment: LANDBANK_URL (required), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT (default /tmp/landbank-map.png), ZONE (default BN-QV1), SEARCH (default "que vo"),
// PAST_DATE (default 2010-06-30), MAPS_PATH (default /maps/). Exits 1 on the first failed step or on any console error.

import { chromium } from 'playwright-core';

const BASE = (process.env.LANDBANK_URL || '').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.SCREENSHOT || '/tmp/landbank-map.png';
const ZONE = process.env.ZONE || 'BN-QV1';
const SEARCH = process.env.SEARCH || 'que vo'; // no diacritics on purpose: the zone is "Quế Võ"
const PAST_DATE = process.env.PAST_DATE || '2010-06-30';
const PAGE = process.env.MAPS_PATH || '/maps/';
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 60000);

let passed = 0;
let failed = 0;
const log = (msg) => console.log(msg);
function ok(msg) { passed += 1; log(`ok   - ${msg}`); }
class StepFailure extends Error {}
function fail(msg) { failed += 1; log(`FAIL - ${msg}`); throw new StepFailure(msg); }
function check(cond, good, bad) { if (cond) ok(good); else fail(bad ?? good); }

/** "68,12 %", "68.12 %" or "68.12" → 68.12 (null when there is no number). */
function parsePct(text) {
  const s = String(text ?? '').replace(/[^\d.,-]/g, '');
  if (!/\d/.test(s)) return null;
  const normal = s.includes(',') && !s.includes('.') ? s.replace(',', '.') : s.replace(/,/g, '');
  const n = Number(normal);
  return Number.isFinite(n) ? n : null;
}
const two = (n) => (n == null ? 'null' : Number(n).toFixed(2));

async function apiJSON(path) {
  const res = await fetch(BASE + path, { headers: { Accept: 'application/json' } });
  if (!res.ok) fail(`GET ${path} answered ${res.status}`);
  return res.json();
}

async function waitForMapIdle(page, what) {
  try {
    await page.waitForFunction(() => {
      const m = window.landbankMap;
      return !!m && m.loaded() && !m.isMoving() && m.areTilesLoaded();
    }, null, { timeout: STEP_TIMEOUT, polling: 100 });
    // One more frame so that rendered features match what is on screen.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  } catch {
    fail(`map did not settle (${what}) within ${STEP_TIMEOUT} ms`);
  }
}

async function popupPct(page) {
  return page.evaluate(() => {
    const el = document.querySelector('#zone-popup-occupancy');
    return el && !el.classList.contains('pending') ? el.textContent : null;
  });
}

async function waitForPopupValue(page, expected, what) {
  const deadline = Date.now() + STEP_TIMEOUT;
  let last = null;
  while (Date.now() < deadline) {
    last = await popupPct(page);
    if (last != null && two(parsePct(last)) === two(expected)) return last;
    await page.waitForTimeout(150);
  }
  fail(`${what}: #zone-popup-occupancy shows ${JSON.stringify(last)}, the API says ${two(expected)}`);
}

async function main() {
  if (!BASE) {
    log('FAIL - set LANDBANK_URL, e.g. LANDBANK_URL=http://127.0.0.1:8097 node maps/test/map.test.mjs');
    process.exit(1);
  }
  log(`landbank map test against ${BASE}${PAGE} with ${CHROMIUM}`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const consoleErrors = [];
  const tileResponses = [];
  const failedRequests = [];
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}${loc.lineNumber != null ? ':' + loc.lineNumber : ''})` : ''}`);
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
    page.on('response', (res) => {
      if (new URL(res.url()).pathname.startsWith('/tiles/')) tileResponses.push({ url: res.url(), status: res.status() });
    });
    page.on('requestfailed', (req) => failedRequests.push(`${req.failure()?.errorText} ${req.url()}`));

    // 1. The page loads and the map reports ready.
    log(`step 1: open ${BASE}${PAGE}`);
    const res = await page.goto(`${BASE}${PAGE}`, { waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT });
    check(res && res.ok(), `GET ${PAGE} answered ${res?.status()}`, `GET ${PAGE} answered ${res?.status()}`);
    try {
      await page.waitForSelector('body[data-ready="1"]', { timeout: STEP_TIMEOUT, state: 'attached' });
    } catch {
      fail(`body[data-ready="1"] not set within ${STEP_TIMEOUT} ms (map 'load' and first tiles)`);
    }
    check(await page.evaluate(() => !!(window.landbankMap && window.landbankMap.getStyle)), 'window.landbankMap is the MapLibre map, data-ready="1"');
    for (const id of ['#zone-popup-occupancy', '#province-occupancy', '#date-input', '#search-input', '#lang-switch']) {
      if (id === '#zone-popup-occupancy') continue; // appears with the popup
      check(await page.$(id), `${id} is on the page`, `${id} is missing`);
    }

    // 2. Vector tiles arrive.
    await waitForMapIdle(page, 'first view');
    const tiles200 = tileResponses.filter((r) => r.status === 200 && /\.mvt(\?|$)/.test(r.url));
    const byStatus = tileResponses.reduce((m, r) => ({ ...m, [r.status]: (m[r.status] || 0) + 1 }), {});
    log(`       /tiles/ responses so far by status: ${JSON.stringify(byStatus)}`);
    check(tiles200.length > 0, `${tiles200.length} vector tile(s) answered 200, e.g. ${tiles200[0]?.url}`,
      `no /tiles/…mvt response with status 200 (${tileResponses.length} /tiles/ responses: ${JSON.stringify(byStatus)})`);
    const bad = tileResponses.filter((r) => r.status !== 200 && r.status !== 204 && r.status !== 304);
    check(bad.length === 0, 'every /tiles/ response was 200 or 204', `/tiles/ errors: ${bad.map((r) => `${r.status} ${r.url}`).join(', ')}`);

    const at = await page.inputValue('#date-input');
    check(/^\d{4}-\d{2}-\d{2}$/.test(at), `#date-input defaults to ${at}`, `#date-input holds ${JSON.stringify(at)}`);
    const today = await apiJSON(`/zones/${ZONE}/occupancy?at=${at}`);
    log(`       API /zones/${ZONE}/occupancy?at=${at}: occupancy_pct ${two(today.occupancy_pct)} (${today.zone_name})`);

    // 3. Search without diacritics and fly to the zone.
    log(`step 3: search ${JSON.stringify(SEARCH)} and fly to ${ZONE}`);
    await page.fill('#search-input', SEARCH);
    await page.waitForSelector('#search-results li[data-code]', { timeout: 10000 }).catch(() => fail(`no search suggestion for ${JSON.stringify(SEARCH)}`));
    const first = await page.$eval('#search-results li[data-code]', (li) => li.dataset.code);
    check(first === ZONE, `first suggestion for ${JSON.stringify(SEARCH)} is ${first}`, `first suggestion for ${JSON.stringify(SEARCH)} is ${first}, expected ${ZONE}`);
    await page.press('#search-input', 'Enter');
    await page.waitForTimeout(300);
    await waitForMapIdle(page, 'after flying to the zone');

    const found = await page.evaluate((code) => {
      const m = window.landbankMap;
      const layers = m.getStyle().layers.filter((l) => l.source === 'zones' && l.type === 'fill').map((l) => l.id);
      const feats = m.queryRenderedFeatures({ layers }).filter((f) => f.properties.code === code);
      return { layers, count: feats.length, zoom: m.getZoom(), center: m.getCenter().toArray() };
    }, ZONE);
    check(found.count > 0, `queryRenderedFeatures on ${found.layers.join(', ')} finds ${ZONE} (zoom ${found.zoom.toFixed(2)}, centre ${found.center.map((v) => v.toFixed(4)).join(', ')})`,
      `queryRenderedFeatures on ${found.layers.join(', ') || '(no zones fill layer)'} does not find ${ZONE} at zoom ${found.zoom.toFixed(2)}`);

    // 4. Click the zone where it is drawn.
    const point = await page.evaluate((code) => {
      const m = window.landbankMap;
      const canvas = m.getCanvas();
      const rect = canvas.getBoundingClientRect();
      const layers = m.getStyle().layers.filter((l) => l.source === 'zones' && l.type === 'fill').map((l) => l.id);
      const w = canvas.clientWidth; const h = canvas.clientHeight;
      const cands = [];
      for (let y = 10; y < h - 10; y += 12) {
        for (let x = 10; x < w - 10; x += 12) {
          const hit = m.queryRenderedFeatures([x, y], { layers }).some((f) => f.properties.code === code);
          if (!hit) continue;
          const el = document.elementFromPoint(rect.left + x, rect.top + y);
          if (el !== canvas) continue;
          cands.push([x, y]);
        }
      }
      if (!cands.length) return null;
      const cx = cands.reduce((s, p) => s + p[0], 0) / cands.length;
      const cy = cands.reduce((s, p) => s + p[1], 0) / cands.length;
      cands.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
      return { x: rect.left + cands[0][0], y: rect.top + cands[0][1], n: cands.length };
    }, ZONE);
    if (!point) fail(`${ZONE} is not clickable anywhere on the canvas`);
    log(`step 4: click ${ZONE} at (${point.x.toFixed(0)}, ${point.y.toFixed(0)}) — ${point.n} sample points fall on it`);
    await page.mouse.click(point.x, point.y);
    await page.waitForSelector('#zone-popup-occupancy', { timeout: 10000 }).catch(() => fail('no #zone-popup-occupancy after the click'));
    const shownToday = await waitForPopupValue(page, today.occupancy_pct, `as of ${at}`);
    ok(`#zone-popup-occupancy shows ${JSON.stringify(shownToday)} = API ${two(today.occupancy_pct)} as of ${at}`);

    // 5. Change the date.
    log(`step 5: set #date-input to ${PAST_DATE}`);
    const past = await apiJSON(`/zones/${ZONE}/occupancy?at=${PAST_DATE}`);
    log(`       API /zones/${ZONE}/occupancy?at=${PAST_DATE}: occupancy_pct ${two(past.occupancy_pct)}`);
    const tilesBefore = tileResponses.length;
    await page.fill('#date-input', PAST_DATE);
    await page.dispatchEvent('#date-input', 'change');
    await page.evaluate(() => document.activeElement?.blur());
    const shownPast = await waitForPopupValue(page, past.occupancy_pct, `as of ${PAST_DATE}`);
    ok(`#zone-popup-occupancy now shows ${JSON.stringify(shownPast)} = API ${two(past.occupancy_pct)} as of ${PAST_DATE}`);
    if (two(past.occupancy_pct) === two(today.occupancy_pct)) log(`       note: the API gives the same figure on both dates`);
    else check(shownPast !== shownToday, `the figure changed from ${shownToday} to ${shownPast}`);

    await waitForMapIdle(page, `tiles as of ${PAST_DATE}`);
    const pastTiles = tileResponses.slice(tilesBefore).filter((r) => r.url.includes(`at=${PAST_DATE}`));
    check(pastTiles.some((r) => r.status === 200 || r.status === 204),
      `tiles were requested again with at=${PAST_DATE} (${pastTiles.length} responses)`,
      `no /tiles/ request with at=${PAST_DATE} after changing the date`);

    const province = await page.evaluate(() => ({ code: document.querySelector('#province-select')?.value, text: document.querySelector('#province-occupancy')?.textContent }));
    if (province.code) {
      const prov = await apiJSON(`/occupancy?province_code=${province.code}&at=${PAST_DATE}`);
      const deadline = Date.now() + STEP_TIMEOUT;
      let shown = province.text;
      while (Date.now() < deadline && two(parsePct(shown)) !== two(prov.occupancy_pct)) {
        await page.waitForTimeout(150);
        shown = await page.$eval('#province-occupancy', (el) => el.textContent);
      }
      check(two(parsePct(shown)) === two(prov.occupancy_pct),
        `#province-occupancy shows ${JSON.stringify(shown)} = API ${two(prov.occupancy_pct)} for ${province.code} as of ${PAST_DATE}`,
        `#province-occupancy shows ${JSON.stringify(shown)}, API says ${two(prov.occupancy_pct)} for ${province.code} as of ${PAST_DATE}`);
    }

    // 6. No console errors.
    check(consoleErrors.length === 0, 'no console errors',
      `${consoleErrors.length} console error(s):\n${consoleErrors.map((e) => `         ${e}`).join('\n')}`);
  } catch (err) {
    if (!(err instanceof StepFailure)) { failed += 1; log(`FAIL - ${err.stack || err}`); }
    if (consoleErrors.length) log(`console errors:\n${consoleErrors.map((e) => `  ${e}`).join('\n')}`);
  } finally {
    const aborted = failedRequests.filter((r) => !r.startsWith('net::ERR_ABORTED'));
    if (aborted.length) log(`failed requests:\n${aborted.map((e) => `  ${e}`).join('\n')}`);
    if (page) {
      try {
        await page.screenshot({ path: SCREENSHOT });
        log(`screenshot: ${SCREENSHOT}`);
      } catch (err) {
        log(`could not write the screenshot ${SCREENSHOT}: ${err.message}`);
        failed += 1;
      }
    }
    await browser.close();
  }
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
