// End-to-end check of the web map at $LANDBANK_URL/maps/ in headless Chromium (playwright-core).
//
//   LANDBANK_URL=http://127.0.0.1:8097 node maps/test/map.test.mjs
//
// Environment: LANDBANK_URL (required), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT (default /tmp/landbank-map.png), ZONE (default BN-QV1), SEARCH (default "que vo"),
// PAST_DATE (default 2010-06-30), MAPS_PATH (default /maps/), AVAILABLE_SCREENSHOT (default: next to
// SCREENSHOT, "-available" before the extension). Exits 1 on the first failed step or on any console error
// (except Chromium's own "Failed to load resource … 400" line for the one bad /available request step 6
// sends on purpose).

import { chromium } from 'playwright-core';

const BASE = (process.env.LANDBANK_URL || '').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.SCREENSHOT || '/tmp/landbank-map.png';
const ZONE = process.env.ZONE || 'BN-QV1';
const SEARCH = process.env.SEARCH || 'que vo'; // no diacritics on purpose: the zone is "Quế Võ"
const PAST_DATE = process.env.PAST_DATE || '2010-06-30';
const PAGE = process.env.MAPS_PATH || '/maps/';
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 60000);
const AVAILABLE_SCREENSHOT = process.env.AVAILABLE_SCREENSHOT || SCREENSHOT.replace(/(\.png)?$/i, '-available.png');
const AVAILABLE_MIN_HA = '5';

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
  // Requests the test makes fail on purpose (url => true): Chromium logs their status as a console error.
  const expectedBadRequests = [];
  const tileResponses = [];
  const failedRequests = [];
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        if (/^Failed to load resource: .*\b400\b/.test(msg.text()) && expectedBadRequests.some((isExpected) => isExpected(loc?.url || ''))) return;
        consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}${loc.lineNumber != null ? ':' + loc.lineNumber : ''})` : ''}`);
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
    page.on('response', (res) => {
      if (new URL(res.url()).pathname.startsWith('/tiles/')) tileResponses.push({ url: res.url(), status: res.status() });
    });
    page.on('requestfailed', (req) => failedRequests.push(`${req.failure()?.errorText} ${req.url()}`));
    const availableRequests = [];
    page.on('request', (req) => { if (new URL(req.url()).pathname.endsWith('/available')) availableRequests.push(req.url()); });

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

    // 6. Find available land: filters, count, list, results on the map, fly to a piece, bad filters.
    log(`step 6: find available land (min_ha=${AVAILABLE_MIN_HA}, ready) as of the page's date`);
    const pageAt = await page.inputValue('#date-input');
    const pageProvince = await page.$eval('#province-select', (el) => el.value);
    for (const id of ['#available-panel', '#available-min-ha', '#available-max-ha', '#available-ready', '#available-cleared',
      '#available-wwtp', '#available-sort', '#available-search', '#available-count', '#available-results', '#available-error']) {
      if (!(await page.$(id))) fail(`${id} is missing`);
    }
    ok('the available-land panel and its controls are on the page');
    if (!(await page.isVisible('#available-min-ha'))) await page.click('#available-toggle');
    check(await page.isVisible('#available-min-ha'), 'the available-land panel opens', 'the available-land panel does not open (#available-min-ha not visible)');
    await page.fill('#available-min-ha', AVAILABLE_MIN_HA);
    await page.fill('#available-max-ha', '');
    await page.check('#available-ready');
    const sortby = await page.$eval('#available-sort', (el) => el.value);
    const q = new URLSearchParams({ min_ha: AVAILABLE_MIN_HA, ready: 'true', at: pageAt, sortby, limit: '1' });
    if (pageProvince) q.set('province_code', pageProvince);
    const expected = await apiJSON(`/available?${q}`);
    log(`       API /available?${q}: numberMatched ${expected.numberMatched}, first ${expected.features?.[0]?.id}`);
    const requestsBefore = availableRequests.length;
    await page.click('#available-search');
    const countText = await page.waitForFunction((n) => {
      const el = document.querySelector('#available-count');
      return el && el.offsetParent !== null && el.dataset.value === String(n) ? el.textContent : false;
    }, expected.numberMatched, { timeout: STEP_TIMEOUT, polling: 100 }).then((h) => h.jsonValue())
      .catch(async () => fail(`#available-count shows ${JSON.stringify(await page.$eval('#available-count', (el) => [el.textContent, el.dataset.value]))}, the API says numberMatched ${expected.numberMatched}`));
    check(Number(String(countText).replace(/\D/g, '')) === expected.numberMatched,
      `#available-count shows ${JSON.stringify(countText)} = API numberMatched ${expected.numberMatched} (at=${pageAt}${pageProvince ? `, province_code=${pageProvince}` : ''})`,
      `#available-count text ${JSON.stringify(countText)} is not ${expected.numberMatched}`);
    const sent = availableRequests.slice(requestsBefore).map((u) => new URL(u).searchParams);
    check(sent.some((p) => p.get('at') === pageAt && p.get('min_ha') === AVAILABLE_MIN_HA && p.get('ready') === 'true' && (p.get('province_code') || '') === pageProvince),
      `the page asked /available with at=${pageAt}, min_ha=${AVAILABLE_MIN_HA}, ready=true${pageProvince ? `, province_code=${pageProvince}` : ''}`,
      `no /available request with the page's date and province: ${sent.map((p) => p.toString()).join(' | ') || '(none)'}`);

    const items = await page.$$eval('#available-results li[data-id]', (lis) => lis.map((li) => ({ id: li.dataset.id, text: li.innerText.replace(/\s+/g, ' ').trim() })));
    check(items.length > 0 && items.length <= expected.numberMatched, `#available-results lists ${items.length} piece(s), first ${items[0]?.id}: ${items[0]?.text}`,
      `#available-results lists ${items.length} piece(s) for numberMatched ${expected.numberMatched}`);
    check(items[0]?.id === expected.features?.[0]?.id, `the first item is the API's first piece for sortby=${sortby}`, `the first item is ${items[0]?.id}, the API's first is ${expected.features?.[0]?.id}`);

    await waitForMapIdle(page, 'after the available-land search');
    const onMap = await page.evaluate(async () => {
      const m = window.landbankMap;
      const src = m.getSource('available-results');
      const data = src ? await src.getData() : null;
      return {
        layer: !!m.getLayer('available-results') && m.getLayoutProperty('available-results', 'visibility') !== 'none',
        data: data?.features?.length ?? 0,
        rendered: m.queryRenderedFeatures({ layers: ['available-results'] }).length,
        source: m.querySourceFeatures('available-results').length,
      };
    });
    check(onMap.layer && onMap.data === items.length && onMap.source > 0,
      `layer available-results is shown with ${onMap.data} feature(s) in its source (${onMap.source} from querySourceFeatures, ${onMap.rendered} rendered)`,
      `available-results: layer shown ${onMap.layer}, ${onMap.data} source features for ${items.length} items, querySourceFeatures ${onMap.source}`);

    const firstId = items[0].id;
    const piece = await apiJSON(`/available?${new URLSearchParams({ ...Object.fromEntries(q), limit: String(Math.max(items.length, 1)) })}`)
      .then((fc) => fc.features.find((f) => f.id === firstId));
    if (!piece) fail(`${firstId} is not in the API's answer`);
    const box = (() => {
      let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
      const walk = (c) => { if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); } else c.forEach(walk); };
      walk(piece.geometry.coordinates);
      return [w, s, e, n];
    })();
    await page.click(`#available-results li[data-id="${firstId}"]`);
    await page.waitForTimeout(300);
    await waitForMapIdle(page, `after flying to ${firstId}`);
    const view = await page.evaluate(() => {
      const m = window.landbankMap;
      return { center: m.getCenter().toArray(), zoom: m.getZoom(), filter: JSON.stringify(m.getFilter('available-selected')),
        selected: document.querySelector('#available-results li.selected')?.dataset.id };
    });
    const [cx, cy] = view.center;
    check(cx >= box[0] && cx <= box[2] && cy >= box[1] && cy <= box[3],
      `clicking ${firstId} moved the map into it (centre ${cx.toFixed(5)}, ${cy.toFixed(5)} inside bbox ${box.map((v) => v.toFixed(5)).join(', ')}, zoom ${view.zoom.toFixed(2)})`,
      `after clicking ${firstId} the map centre ${cx.toFixed(5)}, ${cy.toFixed(5)} is outside its bbox ${box.map((v) => v.toFixed(5)).join(', ')}`);
    check(view.selected === firstId && view.filter.includes(firstId), `${firstId} is highlighted in the list and in layer available-selected`,
      `highlight: list ${view.selected}, available-selected filter ${view.filter}`);
    try {
      await page.screenshot({ path: AVAILABLE_SCREENSHOT });
      log(`       screenshot: ${AVAILABLE_SCREENSHOT}`);
    } catch (err) {
      log(`       could not write ${AVAILABLE_SCREENSHOT}: ${err.message}`);
    }

    // Bad filters: min > max is caught on the page; a negative minimum goes to the service, whose problem detail is shown.
    await page.fill('#available-min-ha', '10');
    await page.fill('#available-max-ha', '5');
    await page.click('#available-search');
    const errMinMax = await page.waitForFunction(() => {
      const el = document.querySelector('#available-error');
      return el && !el.hidden && el.offsetParent !== null && el.textContent.trim() ? el.textContent.trim() : false;
    }, null, { timeout: 10000 }).then((h) => h.jsonValue()).catch(() => fail('min_ha=10 > max_ha=5 shows no #available-error'));
    ok(`min_ha=10 > max_ha=5 shows #available-error ${JSON.stringify(errMinMax)}`);

    const badQ = new URLSearchParams(q);
    badQ.set('min_ha', '-1');
    badQ.delete('limit');
    const badRes = await fetch(`${BASE}/available?${badQ}`, { headers: { Accept: 'application/json' } });
    const problem = await badRes.json().catch(() => ({}));
    check(badRes.status === 400 && problem.detail, `API /available?min_ha=-1 answers 400 with detail ${JSON.stringify(problem.detail)}`,
      `API /available?min_ha=-1 answered ${badRes.status} ${JSON.stringify(problem)}`);
    const isBadAvailable = (url) => { try { const u = new URL(url); return u.pathname.endsWith('/available') && u.searchParams.get('min_ha') === '-1'; } catch { return false; } };
    expectedBadRequests.push(isBadAvailable);
    const badRequest = page.waitForRequest((req) => isBadAvailable(req.url()), { timeout: 10000 });
    await page.fill('#available-max-ha', '');
    await page.fill('#available-min-ha', '-1');
    await page.click('#available-search');
    await badRequest.catch(() => fail('no /available request for min_ha=-1'));
    const errNeg = await page.waitForFunction((detail) => {
      const el = document.querySelector('#available-error');
      return el && !el.hidden && el.textContent.includes(detail) ? el.textContent.trim() : false;
    }, problem.detail, { timeout: 10000 }).then((h) => h.jsonValue())
      .catch(async () => fail(`min_ha=-1: #available-error shows ${JSON.stringify(await page.$eval('#available-error', (el) => el.textContent))}, expected the problem detail ${JSON.stringify(problem.detail)}`));
    ok(`min_ha=-1 shows the problem detail in #available-error: ${JSON.stringify(errNeg)}`);
    await page.fill('#available-min-ha', AVAILABLE_MIN_HA);

    // 7. No console errors.
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
