// End-to-end check of the web map at $LANDBANK_URL/maps/ in headless Chromium (playwright-core).
//
//   LANDBANK_URL=http://127.0.0.1:8097 node maps/test/map.test.mjs
//
// Environment: LANDBANK_URL (required), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT (default /tmp/landbank-map.png), ZONE (default BN-QV1), SEARCH (default "que vo"),
// PAST_DATE (default 2010-06-30), PRE_MERGER_DATE (default 2024-06-30, before the provinces merged on
// 2025-07-01), MAPS_PATH (default /maps/), AVAILABLE_SCREENSHOT (default: next to
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
// Vietnam's provinces merged on 2025-07-01: old Bắc Ninh (VN-56, where ZONE was recorded) became part of VN2025-24.
const MERGER_DATE = '2025-07-01';
const PRE_MERGER_DATE = process.env.PRE_MERGER_DATE || '2024-06-30';
const OLD_UNIT = 'VN-56';
const NEW_UNIT = 'VN2025-24';

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

/** The page's #province-select: its value and its options (the "all provinces" entry left out). */
async function provinceSelect(page) {
  return page.$eval('#province-select', (sel) => ({
    value: sel.value,
    options: [...sel.options].filter((o) => o.value).map((o) => ({ code: o.value, name: o.textContent })),
    url: new URLSearchParams(location.search).get('province'),
    at: new URLSearchParams(location.search).get('at'),
  }));
}

/**
 * Waits until #province-select offers exactly the provinces of the API's national /occupancy on `date`
 * and has selected the unit holding ZONE on that date (the zone's province_code in that answer), with
 * the URL's ?province= in step. Returns that unit's code and the select's state.
 */
async function checkProvinceList(page, date, what) {
  const national = await apiJSON(`/occupancy?at=${date}`);
  const want = (national.provinces || []).map((p) => p.province_code).sort();
  const holder = (national.zones || []).find((z) => z.zone_code === ZONE)?.province_code;
  if (!holder) fail(`API /occupancy?at=${date} does not list ${ZONE} among its zones`);
  const deadline = Date.now() + STEP_TIMEOUT;
  let sel = await provinceSelect(page);
  const same = (s) => s.value === holder && s.url === holder && JSON.stringify(s.options.map((o) => o.code).sort()) === JSON.stringify(want);
  while (Date.now() < deadline && !same(sel)) {
    await page.waitForTimeout(150);
    sel = await provinceSelect(page);
  }
  check(same(sel),
    `${what}: #province-select offers the API's ${want.length} provinces on ${date} (${sel.options.map((o) => `${o.code} ${o.name}`).join(', ')}) and has ${holder} selected, ?province=${sel.url}`,
    `${what}: #province-select offers ${JSON.stringify(sel.options.map((o) => o.code))} with ${JSON.stringify(sel.value)} selected (?province=${sel.url}); the API's provinces on ${date} are ${JSON.stringify(want)} and ${ZONE} lies in ${holder}`);
  return { holder, sel };
}

/** Waits until #province-occupancy (and #province-notice) show the API's answer for `code` on `date`. */
async function checkProvinceFigure(page, code, date) {
  const prov = await apiJSON(`/occupancy?province_code=${encodeURIComponent(code)}&at=${date}`);
  const read = () => page.evaluate(() => {
    const notice = document.querySelector('#province-notice');
    return { text: document.querySelector('#province-occupancy')?.textContent, notice: notice && !notice.hidden ? document.querySelector('#province-notice-text')?.textContent ?? '' : null };
  });
  const same = (s) => two(parsePct(s.text)) === two(prov.occupancy_pct) && s.notice === (prov.notice ?? null);
  const deadline = Date.now() + STEP_TIMEOUT;
  let shown = await read();
  while (Date.now() < deadline && !same(shown)) {
    await page.waitForTimeout(150);
    shown = await read();
  }
  check(two(parsePct(shown.text)) === two(prov.occupancy_pct),
    `#province-occupancy shows ${JSON.stringify(shown.text)} = API ${two(prov.occupancy_pct)} for ${code} as of ${date}`,
    `#province-occupancy shows ${JSON.stringify(shown.text)}, API says ${two(prov.occupancy_pct)} for ${code} as of ${date}`);
  check(shown.notice === (prov.notice ?? null),
    prov.notice ? `#province-notice shows the API's notice ${JSON.stringify(prov.notice)}` : `no #province-notice, as the API gives no notice for ${code} on ${date}`,
    `#province-notice shows ${JSON.stringify(shown.notice)}, the API's notice for ${code} on ${date} is ${JSON.stringify(prov.notice ?? null)}`);
  return prov;
}

/** Sets #date-input as a user would and lets the page react. */
async function setDate(page, date) {
  await page.fill('#date-input', date);
  await page.dispatchEvent('#date-input', 'change');
  await page.evaluate(() => document.activeElement?.blur());
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

    // The page serves the demo: it says the geometry is synthetic (an install without it does not).
    const noteShown = await page.$eval('#synthetic-note', (el) => !el.hidden && el.offsetParent !== null).catch(() => false);
    check(noteShown, '#synthetic-note is shown over the demo data', '#synthetic-note is hidden although the demo is loaded');

    const at = await page.inputValue('#date-input');
    check(/^\d{4}-\d{2}-\d{2}$/.test(at), `#date-input defaults to ${at}`, `#date-input holds ${JSON.stringify(at)}`);
    const today = await apiJSON(`/zones/${ZONE}/occupancy?at=${at}`);
    log(`       API /zones/${ZONE}/occupancy?at=${at}: occupancy_pct ${two(today.occupancy_pct)} (${today.zone_name})`);

    // The province list is the one of the page's date; the default province is the unit holding ZONE then.
    const { holder: holderToday, sel: selToday } = await checkProvinceList(page, at, 'after load');
    if (at >= MERGER_DATE) {
      const offered = selToday.options.find((o) => o.code === NEW_UNIT);
      check(offered && !selToday.options.some((o) => o.code === OLD_UNIT) && selToday.value === NEW_UNIT,
        `on ${at} (from ${MERGER_DATE}) #province-select offers ${NEW_UNIT} ${offered?.name}, selected, and not ${OLD_UNIT}`,
        `on ${at} #province-select should offer and select ${NEW_UNIT}, not ${OLD_UNIT}: ${JSON.stringify(selToday)}`);
    }
    await checkProvinceFigure(page, holderToday, at);

    // 3. Search without diacritics and fly to the zone.
    log(`step 3: search ${JSON.stringify(SEARCH)} and fly to ${ZONE}`);
    // From another province first: choosing the zone brings the select back to the unit holding it on the date.
    const other = selToday.options.find((o) => o.code !== holderToday);
    if (other) {
      await page.selectOption('#province-select', other.code);
      check((await provinceSelect(page)).url === other.code, `chose ${other.code} ${other.name} in #province-select, ?province=${other.code}`);
    }
    await page.fill('#search-input', SEARCH);
    await page.waitForSelector('#search-results li[data-code]', { timeout: 10000 }).catch(() => fail(`no search suggestion for ${JSON.stringify(SEARCH)}`));
    const first = await page.$eval('#search-results li[data-code]', (li) => li.dataset.code);
    check(first === ZONE, `first suggestion for ${JSON.stringify(SEARCH)} is ${first}`, `first suggestion for ${JSON.stringify(SEARCH)} is ${first}, expected ${ZONE}`);
    await page.press('#search-input', 'Enter');
    await page.waitForTimeout(300);
    await waitForMapIdle(page, 'after flying to the zone');
    if (other) {
      const sel = await provinceSelect(page);
      check(sel.value === holderToday && sel.url === holderToday,
        `choosing ${ZONE} switched #province-select from ${other.code} to ${holderToday}, the unit holding it on ${at}`,
        `after choosing ${ZONE}, #province-select holds ${sel.value} (?province=${sel.url}), expected ${holderToday}`);
    }

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
    await setDate(page, PAST_DATE);
    const shownPast = await waitForPopupValue(page, past.occupancy_pct, `as of ${PAST_DATE}`);
    ok(`#zone-popup-occupancy now shows ${JSON.stringify(shownPast)} = API ${two(past.occupancy_pct)} as of ${PAST_DATE}`);
    if (two(past.occupancy_pct) === two(today.occupancy_pct)) log(`       note: the API gives the same figure on both dates`);
    else check(shownPast !== shownToday, `the figure changed from ${shownToday} to ${shownPast}`);

    await waitForMapIdle(page, `tiles as of ${PAST_DATE}`);
    const pastTiles = tileResponses.slice(tilesBefore).filter((r) => r.url.includes(`at=${PAST_DATE}`));
    check(pastTiles.some((r) => r.status === 200 || r.status === 204),
      `tiles were requested again with at=${PAST_DATE} (${pastTiles.length} responses)`,
      `no /tiles/ request with at=${PAST_DATE} after changing the date`);

    // The province list and the selected province follow the date (the unit holding ZONE on PAST_DATE).
    const { holder: holderPast } = await checkProvinceList(page, PAST_DATE, `as of ${PAST_DATE}`);
    await checkProvinceFigure(page, holderPast, PAST_DATE);

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

    // 7. Across the mergers of 2025-07-01: the province list and the selected province follow the date,
    //    and so does the available-land search (which has run, so a new date runs it again).
    log(`step 7: set #date-input to ${PRE_MERGER_DATE}, before the mergers, then back to ${at}`);
    const rerun = (date) => page.waitForRequest((req) => {
      const u = new URL(req.url());
      return u.pathname.endsWith('/available') && u.searchParams.get('at') === date;
    }, { timeout: STEP_TIMEOUT });
    let rerunRequest = rerun(PRE_MERGER_DATE);
    await setDate(page, PRE_MERGER_DATE);
    const { holder: holderPre, sel: selPre } = await checkProvinceList(page, PRE_MERGER_DATE, `as of ${PRE_MERGER_DATE}`);
    check(selPre.options.some((o) => o.code === OLD_UNIT) && !selPre.options.some((o) => o.code === NEW_UNIT) && holderPre === OLD_UNIT,
      `on ${PRE_MERGER_DATE} #province-select offers ${OLD_UNIT} and not ${NEW_UNIT}, and ${OLD_UNIT} is selected`,
      `on ${PRE_MERGER_DATE} #province-select should offer and select ${OLD_UNIT}, not ${NEW_UNIT}: ${JSON.stringify(selPre)}`);
    check(selPre.at === PRE_MERGER_DATE, `?at=${PRE_MERGER_DATE}&province=${selPre.url} in the URL`, `the URL says at=${selPre.at}, province=${selPre.url}`);
    await checkProvinceFigure(page, holderPre, PRE_MERGER_DATE);
    let sentAvail = new URL((await rerunRequest.catch(() => fail(`no /available request with at=${PRE_MERGER_DATE} after changing the date`))).url()).searchParams;
    check(sentAvail.get('province_code') === holderPre, `the available-land search ran again with at=${PRE_MERGER_DATE}, province_code=${holderPre}`,
      `the available-land search ran again with province_code=${sentAvail.get('province_code')}, expected ${holderPre}`);

    rerunRequest = rerun(at);
    await setDate(page, at);
    const { holder: holderBack, sel: selBack } = await checkProvinceList(page, at, `back to ${at}`);
    if (at >= MERGER_DATE) {
      check(selBack.value === NEW_UNIT && !selBack.options.some((o) => o.code === OLD_UNIT),
        `on ${at} ${NEW_UNIT} is back in #province-select and selected`, `on ${at} #province-select: ${JSON.stringify(selBack)}, expected ${NEW_UNIT} selected`);
    }
    await checkProvinceFigure(page, holderBack, at);
    sentAvail = new URL((await rerunRequest.catch(() => fail(`no /available request with at=${at} after changing the date back`))).url()).searchParams;
    check(sentAvail.get('province_code') === holderBack, `the available-land search ran again with at=${at}, province_code=${holderBack}`,
      `the available-land search ran again with province_code=${sentAvail.get('province_code')}, expected ${holderBack}`);
    await waitForMapIdle(page, `back to ${at}`);

    // 8. A unit formed on 2025-07-01 asked for before then, none of whose predecessors holds zones: it stays
    //    selected, and the API's notice is shown (in English) under a translated label.
    const units = (await apiJSON('/collections/provinces/items?limit=200')).features.map((f) => f.properties);
    const listedPre = new Set((await apiJSON(`/occupancy?at=${PRE_MERGER_DATE}`)).provinces.map((p) => p.province_code));
    const lone = units
      .filter((u) => u.valid_from && u.valid_from > PRE_MERGER_DATE && !String(u.predecessor_codes || '').split(',').some((c) => listedPre.has(c.trim())))
      .sort((a, b) => a.province_code.localeCompare(b.province_code))[0];
    if (!lone) fail(`no unit formed after ${PRE_MERGER_DATE} without predecessors holding zones in /collections/provinces/items`);
    log(`step 8: open ${PAGE}?province=${lone.province_code}&at=${PRE_MERGER_DATE}&lang=en (${lone.name}, formed ${lone.valid_from} from ${lone.predecessor_codes})`);
    await page.goto(`${BASE}${PAGE}?province=${encodeURIComponent(lone.province_code)}&at=${PRE_MERGER_DATE}&lang=en`, { waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT });
    await page.waitForSelector('body[data-ready="1"]', { timeout: STEP_TIMEOUT, state: 'attached' }).catch(() => fail('the page did not become ready'));
    const loneProv = await checkProvinceFigure(page, lone.province_code, PRE_MERGER_DATE);
    if (!loneProv.notice) fail(`API /occupancy?province_code=${lone.province_code}&at=${PRE_MERGER_DATE} gives no notice`);
    const selLone = await provinceSelect(page);
    check(selLone.value === lone.province_code && selLone.url === lone.province_code,
      `${lone.province_code} stays selected on ${PRE_MERGER_DATE} (${selLone.options.find((o) => o.code === lone.province_code)?.name})`,
      `#province-select holds ${selLone.value} (?province=${selLone.url}), expected ${lone.province_code}`);
    const label = async () => page.$eval('#province-notice .notice-label', (el) => el.textContent).catch(() => null);
    const labelEn = await label();
    await page.click('#lang-switch');
    const labelVi = await label();
    check(labelEn === 'Note:' && labelVi === 'Lưu ý:', `the notice's label is ${JSON.stringify(labelEn)} in English and ${JSON.stringify(labelVi)} in Vietnamese`,
      `the notice's label is ${JSON.stringify(labelEn)} in English and ${JSON.stringify(labelVi)} in Vietnamese`);
    await page.click('#lang-switch');
    await waitForMapIdle(page, `${lone.province_code} on ${PRE_MERGER_DATE}`);

    // 9. No console errors.
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
