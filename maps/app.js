// landbank web map: MapLibre GL JS (loaded by index.html from /maps/vendor/maplibre-gl/) over the
// service's vector tiles (/tiles/{collection}/{z}/{x}/{y}.mvt?at=) and JSON APIs. Plain ES module,
// no bundler, nothing fetched from outside the service.

const maplibregl = window.maplibregl;

// The page lives at <service>/maps/, so the service root is one level up from this file.
const API_ROOT = new URL('../', import.meta.url);
const api = (path) => new URL(path.replace(/^\//, ''), API_ROOT).href;

// ---------------------------------------------------------------------------------------------
// UI strings

const I18N = {
  vi: {
    pageTitle: 'landbank — Bản đồ khu công nghiệp',
    subtitle: 'Quỹ đất trong các khu công nghiệp',
    asOf: 'Tính đến ngày',
    search: 'Tìm khu công nghiệp',
    searchPlaceholder: 'Tên KCN, ví dụ: Que Vo',
    noMatch: 'Không tìm thấy khu công nghiệp',
    layers: 'Lớp bản đồ',
    layer_zones: 'Khu công nghiệp — tỷ lệ lấp đầy',
    layer_plots: 'Lô đất — tình trạng cho thuê',
    layer_clearance_parcels: 'Thửa đất — giải phóng mặt bằng',
    layer_available_land: 'Đất còn trống cho nhà đầu tư',
    zoomIn: 'phóng to để xem',
    province: 'Tỉnh',
    allProvinces: 'Tất cả các tỉnh',
    notice: 'Lưu ý',
    occupancy: 'Tỷ lệ lấp đầy',
    byZone: 'Tỷ lệ lấp đầy theo khu công nghiệp',
    zonesTotal: 'Tổng số KCN',
    zonesEstablished: 'Đã thành lập',
    zonesOperating: 'Đang hoạt động',
    dataNote: 'Diện tích là diện tích trắc địa (WGS 84) do landbank tính từ hình học; tỷ lệ lấp đầy = đất đã cho thuê / đất công nghiệp cho thuê.',
    plannedArea: 'Diện tích quy hoạch',
    establishedArea: 'Diện tích đã thành lập',
    leasable: 'Đất công nghiệp cho thuê',
    leased: 'Đã cho thuê',
    reserved: 'Đã giữ chỗ',
    available: 'Còn trống',
    noData: 'chưa thành lập / không có số liệu',
    sourceLabel: 'Nguồn',
    source_measured: 'đo từ hình học',
    source_declared: 'theo văn bản pháp lý',
    source_mixed: 'hỗn hợp',
    status_planned: 'Quy hoạch',
    status_policy_approved: 'Đã có chủ trương',
    status_established: 'Đã thành lập',
    status_operating: 'Đang hoạt động',
    status_cancelled: 'Đã hủy',
    status_suspended: 'Tạm dừng',
    lease_active: 'Đã cho thuê',
    lease_reserved: 'Đã giữ chỗ',
    lease_free: 'Còn trống',
    clearance_not_started: 'Chưa thực hiện',
    clearance_inventoried: 'Đã kiểm đếm',
    clearance_compensation_approved: 'Đã duyệt phương án bồi thường',
    clearance_compensated: 'Đã bồi thường',
    clearance_handed_over: 'Đã bàn giao mặt bằng',
    ready: 'Sẵn sàng đầu tư',
    notReady: 'Chưa sẵn sàng',
    zone: 'KCN',
    plot: 'Lô',
    parcel: 'Thửa',
    sheet: 'tờ',
    area: 'Diện tích',
    infraReady: 'Hạ tầng sẵn sàng từ',
    availablePiece: 'Đất còn trống',
    asOfShort: 'tính đến',
    loading: 'Đang tải…',
    loadError: 'Không tải được dữ liệu',
    outOfScope: 'ngoài phạm vi tính',
    synthetic: 'Dữ liệu minh họa: tên và vị trí các KCN là thật, còn hình học (ranh giới, lô, thửa) là tổng hợp, không phải ranh giới chính thức.',
    mapLabel: 'Bản đồ khu công nghiệp',
    basemap: 'Bản đồ nền',
    langTitle: 'Chuyển sang tiếng Anh',
    leasedOf: (a, b) => `${a} / ${b} đã cho thuê`,
    availTitle: 'Tìm đất còn trống',
    availArea: 'Diện tích (ha)',
    availMin: 'Từ',
    availMax: 'Đến',
    availReady: 'Chỉ đất sẵn sàng đầu tư',
    availCleared: 'Chỉ đất đã giải phóng mặt bằng',
    availWwtp: 'Chỉ KCN có nhà máy xử lý nước thải đang hoạt động',
    availNear: 'Gần điểm',
    availPick: 'Chọn trên bản đồ',
    availPicking: 'Bấm vào bản đồ…',
    availPickTitle: 'Bấm nút rồi bấm vào bản đồ để chọn điểm (Esc để hủy)',
    availNoPoint: 'chưa chọn điểm',
    availClearNear: 'Bỏ điểm đã chọn',
    availWithin: 'Trong bán kính (km)',
    availSort: 'Sắp xếp',
    sortLargest: 'Lớn nhất trước',
    sortSmallest: 'Nhỏ nhất trước',
    sortNearest: 'Gần nhất trước',
    availSearch: 'Tìm',
    availMore: 'Xem thêm',
    download: 'Tải về',
    dlCsvTitle: 'Tải kết quả dạng CSV (bảng tính; hình học dạng WKT)',
    dlGpkgTitle: 'Tải kết quả dạng GeoPackage (QGIS, ArcGIS)',
    dlKmlTitle: 'Tải kết quả dạng KML (Google Earth)',
    shareLink: 'Sao chép liên kết',
    shareTitle: 'Sao chép địa chỉ trang: mở địa chỉ này sẽ thấy lại đúng các điều kiện tìm và kết quả',
    shareCopied: 'Đã sao chép liên kết.',
    shareManual: 'Nhấn Ctrl+C (⌘C) để sao chép liên kết.',
    shareField: 'Liên kết tới kết quả tìm',
    availMatched: () => 'khu đất phù hợp',
    availShown: (n) => `đang hiện ${n}`,
    availNone: 'Không có đất còn trống phù hợp với điều kiện tìm.',
    availMinGtMax: 'Diện tích tối thiểu lớn hơn diện tích tối đa.',
    availDropped: (n, ha) => `Không liệt kê ${n} mảnh nhỏ hơn ${ha}.`,
    availPlots: (n) => `${n} lô`,
    badgeReady: 'Sẵn sàng',
    badgeNotReady: 'Chưa sẵn sàng',
    badgeCleared: 'Đã GPMB',
    badgeClearedTitle: 'Đã giải phóng mặt bằng toàn bộ',
    badgeWwtp: 'XLNT',
    badgeWwtpTitle: 'Nhà máy xử lý nước thải đang hoạt động',
    perDay: 'm³/ngày',
    north: 'B',
    east: 'Đ',
    datePlaceholder: 'dd/mm/yyyy',
    datePick: 'Chọn ngày trên lịch',
    dateInvalid: 'Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, từ 01/01/1990 đến 31/12/2100.',
    printTitle: 'Bản đồ khu công nghiệp',
    printFigures: 'Số liệu tính đến ngày',
    printLegend: 'Chú giải',
    printResults: 'Kết quả tìm đất còn trống',
    printedOn: 'In ngày',
    // the watch list: GET /projects/behind
    watchTitle: 'Dự án chậm tiến độ',
    watchProjects: () => 'dự án',
    watchHeld: 'đất đang thuê',
    watchNone: 'Không có dự án nào chậm tiến độ.',
    watchError: 'Không tải được danh sách dự án chậm tiến độ',
    watchFit: 'Xem KCN của dự án trên bản đồ',
    watchCsvTitle: 'Tải danh sách dạng CSV',
    watchDue: 'hạn',
    watchLate: (n) => `chậm ${n} ngày`,
    milestone_land_handover: 'Nhận bàn giao đất',
    milestone_construction: 'Khởi công xây dựng',
    milestone_operation: 'Đi vào hoạt động',
    origin_fdi: 'FDI',
    origin_ddi: 'Trong nước',
    originTitle_fdi: 'Dự án có vốn đầu tư nước ngoài',
    originTitle_ddi: 'Dự án đầu tư trong nước',
    // land taken back from projects (available land with recovered_from)
    recovered: 'Đất thu hồi từ dự án',
    recoveredFrom: (ids, date) => `Đất thu hồi từ dự án ${ids.join(', ')} ngày ${date}`,
    badgeRecovered: 'Đất thu hồi',
  },
  en: {
    pageTitle: 'landbank — Industrial zone map',
    subtitle: 'Land in industrial zones',
    asOf: 'As of',
    search: 'Find an industrial zone',
    searchPlaceholder: 'Zone name, e.g. Que Vo',
    noMatch: 'No zone found',
    layers: 'Layers',
    layer_zones: 'Industrial zones — occupancy',
    layer_plots: 'Plots — lease status',
    layer_clearance_parcels: 'Parcels — site clearance',
    layer_available_land: 'Available land for investors',
    zoomIn: 'zoom in to see',
    province: 'Province',
    allProvinces: 'All provinces',
    notice: 'Note',
    occupancy: 'Occupancy rate',
    byZone: 'Occupancy by zone',
    zonesTotal: 'Zones',
    zonesEstablished: 'Established',
    zonesOperating: 'Operating',
    dataNote: 'Areas are geodesic (WGS 84), computed by landbank from geometry; occupancy = leased / leasable industrial land.',
    plannedArea: 'Planned area',
    establishedArea: 'Established area',
    leasable: 'Leasable industrial land',
    leased: 'Leased',
    reserved: 'Reserved',
    available: 'Available',
    noData: 'not established / no data',
    sourceLabel: 'Source',
    source_measured: 'measured from geometry',
    source_declared: 'declared in legal documents',
    source_mixed: 'mixed',
    status_planned: 'Planned',
    status_policy_approved: 'Policy approved',
    status_established: 'Established',
    status_operating: 'Operating',
    status_cancelled: 'Cancelled',
    status_suspended: 'Suspended',
    lease_active: 'Leased',
    lease_reserved: 'Reserved',
    lease_free: 'Free',
    clearance_not_started: 'Not started',
    clearance_inventoried: 'Inventoried',
    clearance_compensation_approved: 'Compensation approved',
    clearance_compensated: 'Compensated',
    clearance_handed_over: 'Handed over',
    ready: 'Ready to invest',
    notReady: 'Not ready',
    zone: 'Zone',
    plot: 'Plot',
    parcel: 'Parcel',
    sheet: 'sheet',
    area: 'Area',
    infraReady: 'Infrastructure ready since',
    availablePiece: 'Available land',
    asOfShort: 'as of',
    loading: 'Loading…',
    loadError: 'Could not load data',
    outOfScope: 'not counted',
    synthetic: 'Demo data: zone names and locations are real; the geometry (boundaries, plots, parcels) is synthetic, not official boundaries.',
    mapLabel: 'Industrial zone map',
    basemap: 'Basemap',
    langTitle: 'Chuyển sang tiếng Việt',
    leasedOf: (a, b) => `${a} of ${b} leased`,
    availTitle: 'Find available land',
    availArea: 'Area (ha)',
    availMin: 'Min',
    availMax: 'Max',
    availReady: 'Ready to invest only',
    availCleared: 'Cleared land only',
    availWwtp: 'Zones with a working wastewater plant only',
    availNear: 'Near a point',
    availPick: 'Pick on map',
    availPicking: 'Click the map…',
    availPickTitle: 'Press, then click the map to choose a point (Esc cancels)',
    availNoPoint: 'no point chosen',
    availClearNear: 'Clear the point',
    availWithin: 'Within (km)',
    availSort: 'Sort',
    sortLargest: 'Largest first',
    sortSmallest: 'Smallest first',
    sortNearest: 'Nearest first',
    availSearch: 'Search',
    availMore: 'Show more',
    download: 'Download',
    dlCsvTitle: 'Download the results as CSV (spreadsheet; geometry as WKT)',
    dlGpkgTitle: 'Download the results as GeoPackage (QGIS, ArcGIS)',
    dlKmlTitle: 'Download the results as KML (Google Earth)',
    shareLink: 'Copy link',
    shareTitle: 'Copy the page address: opening it shows the same filters and results',
    shareCopied: 'Link copied.',
    shareManual: 'Press Ctrl+C (⌘C) to copy the link.',
    shareField: 'Link to these results',
    availMatched: (n) => (n === 1 ? 'piece matches' : 'pieces match'),
    availShown: (n) => `${n} shown`,
    availNone: 'No available land matches these filters.',
    availMinGtMax: 'The minimum area is larger than the maximum.',
    availDropped: (n, ha) => `${n} piece(s) smaller than ${ha} not listed.`,
    availPlots: (n) => (n === 1 ? '1 plot' : `${n} plots`),
    badgeReady: 'Ready',
    badgeNotReady: 'Not ready',
    badgeCleared: 'Cleared',
    badgeClearedTitle: 'Site clearance complete',
    badgeWwtp: 'WWTP',
    badgeWwtpTitle: 'Wastewater treatment plant operating',
    perDay: 'm³/day',
    north: 'N',
    east: 'E',
    datePlaceholder: 'e.g. 30 Jun 2010',
    datePick: 'Pick a date from the calendar',
    dateInvalid: 'Not a date: type e.g. 30 Jun 2010, 30/06/2010 or 2010-06-30 (1990 to 2100).',
    printTitle: 'Industrial zone map',
    printFigures: 'Figures as of',
    printLegend: 'Legend',
    printResults: 'Available land found',
    printedOn: 'Printed',
    watchTitle: 'Projects behind schedule',
    watchProjects: (n) => (n === 1 ? 'project' : 'projects'),
    watchHeld: 'of land held',
    watchNone: 'No project is behind schedule.',
    watchError: 'Could not load the projects behind schedule',
    watchFit: 'Show the project\'s zone on the map',
    watchCsvTitle: 'Download the list as CSV',
    watchDue: 'due',
    watchLate: (n, count) => `${n} ${count === 1 ? 'day' : 'days'} late`,
    milestone_land_handover: 'Land handed over',
    milestone_construction: 'Construction started',
    milestone_operation: 'Operating',
    origin_fdi: 'FDI',
    origin_ddi: 'Domestic',
    originTitle_fdi: 'Foreign-invested project',
    originTitle_ddi: 'Domestic project',
    recovered: 'Land taken back from projects',
    recoveredFrom: (ids, date) => `Land taken back from project${ids.length === 1 ? '' : 's'} ${ids.join(', ')} on ${date}`,
    badgeRecovered: 'Taken back',
  },
};

const LOCALES = { vi: 'vi-VN', en: 'en-GB' };

// ---------------------------------------------------------------------------------------------
// Colours and classes (shared by the map, the legend and the chart)

const OCC_CLASSES = [
  { min: -Infinity, max: 30, color: '#cfe1f2', label: '< 30 %' },
  { min: 30, max: 60, color: '#7fb2da', label: '30–60 %' },
  { min: 60, max: 80, color: '#3a7fc0', label: '60–80 %' },
  { min: 80, max: Infinity, color: '#0d3f7a', label: '≥ 80 %' },
];
const NO_DATA_COLOR = '#c9c6bf';
const occColor = (pct) => (pct == null ? NO_DATA_COLOR : OCC_CLASSES.find((c) => pct >= c.min && pct < c.max).color);

// Plots by lease status and available land by readiness are drawn over one another, so their colours
// are chosen together to stay apart for every kind of colour vision (CIEDE2000 ≥ 20 between free land
// and either kind of available land, also as protanopes, deuteranopes and tritanopes see them; the map
// test checks it): leased dark red, reserved orange, free teal; available land yellow.
const LEASE_COLORS = { active: '#a6361f', reserved: '#f08c2e', free: '#2a9d8f' };
// Darkest where the most work is left: land not yet handed over stands out.
const CLEARANCE_COLORS = {
  not_started: '#4a1486',
  inventoried: '#6a51a3',
  compensation_approved: '#8f7fc0',
  compensated: '#bcb7db',
  handed_over: '#ece9f4',
};
const AVAILABLE_COLORS = { ready: '#f7e04b', not_ready: '#fdf6c7', line: '#7a6300' };
// Available land taken back from projects (recovered_from): hatched over its yellow, with a solid
// outline, in a near-black violet, so that it is told apart by pattern and by lightness, not by hue
// alone (CIEDE2000 ≥ 30 from both yellows and the plain outline, also for colour-blind eyes; checked by the test).
const RECOVERED_COLOR = '#1b0a3c';
const RECOVERED_PATTERN = 'recovered-hatch';
// In the tiles recovered_from is absent when no land of the piece was taken back.
const RECOVERED_FILTER = ['all', ['has', 'recovered_from'], ['!=', ['to-string', ['get', 'recovered_from']], '']];
// Results of the "find available land" panel: a colour no other layer uses.
const RESULT_COLORS = { fill: '#d6287f', line: '#a0135c', selected: '#4d0a2e' };

// Boards report occupancy for established and operating zones only; others are drawn as "no data".
const ZONES_FILL_COLOR = [
  'case',
  ['!', ['has', 'occupancy_pct']], NO_DATA_COLOR,
  ['all', ['has', 'status'], ['!', ['in', ['get', 'status'], ['literal', ['established', 'operating']]]]], NO_DATA_COLOR,
  ['step', ['to-number', ['get', 'occupancy_pct']], OCC_CLASSES[0].color, 30, OCC_CLASSES[1].color, 60, OCC_CLASSES[2].color, 80, OCC_CLASSES[3].color],
];
const matchColor = (prop, colors, fallback) => ['match', ['get', prop], ...Object.entries(colors).flat(), fallback];

// The switchable layer groups. `minzoom` is the zoom at which the layers start drawing.
const GROUPS = [
  { key: 'zones', layers: ['zones-fill', 'zones-outline', 'zones-points'], on: true, minzoom: 0 },
  { key: 'plots', layers: ['plots-fill', 'plots-outline'], on: true, minzoom: 13 },
  { key: 'clearance_parcels', layers: ['clearance-fill', 'clearance-outline'], on: false, minzoom: 13 },
  { key: 'available_land', layers: ['available-fill', 'available-outline', 'available-recovered', 'available-recovered-outline'], on: false, minzoom: 11 },
];
const groupMinzoom = (key) => GROUPS.find((g) => g.key === key).minzoom;
const CLICKABLE = ['available-results', 'available-fill', 'plots-fill', 'clearance-fill', 'zones-fill', 'zones-points'];
// Below this zoom zones are also drawn as dots, so that a national view still shows them.
const POINTS_MAXZOOM = 9;

// Towns drawn for orientation when no basemap is configured (approximate centres).
const TOWNS = [
  { name: 'Hà Nội', lngLat: [105.8542, 21.0285], capital: true },
  { name: 'Bắc Ninh', lngLat: [106.0763, 21.1861] },
  { name: 'Hưng Yên', lngLat: [106.0511, 20.6464] },
  { name: 'Vĩnh Yên', lngLat: [105.5971, 21.3089] },
  { name: 'Thái Nguyên', lngLat: [105.8442, 21.5942] },
  { name: 'Phan Thiết', lngLat: [108.1022, 10.9289] },
];

// Bắc Ninh's zones; on a date from 01/07/2025 the unit holding them (VN2025-24) is chosen instead.
const DEFAULT_PROVINCE = 'VN-56';
const FALLBACK_BOUNDS = [[105.85, 20.95], [106.35, 21.3]];

// ---------------------------------------------------------------------------------------------
// State and small helpers

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);

function todayInVietnam() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || '') && !Number.isNaN(Date.parse(s + 'T00:00:00Z'));
// The dates the date field takes (its min and max in index.html); a URL's ?at= outside them is ignored.
const DATE_MIN = '1990-01-01';
const DATE_MAX = '2100-12-31';
const isPageDate = (s) => isDate(s) && s >= DATE_MIN && s <= DATE_MAX;

const state = {
  lang: I18N[params.get('lang')] ? params.get('lang') : (localStorage.getItem('landbank.lang') in I18N ? localStorage.getItem('landbank.lang') : 'vi'),
  at: isPageDate(params.get('at')) ? params.get('at') : todayInVietnam(),
  province: params.has('province') ? params.get('province') : DEFAULT_PROVINCE,
  selectedZone: null,
  visible: Object.fromEntries(GROUPS.map((g) => [g.key, g.on])),
};

const t = (key) => I18N[state.lang][key] ?? I18N.en[key] ?? key;
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const nf = (digits) => new Intl.NumberFormat(LOCALES[state.lang], { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtHa = (v) => (v == null ? '—' : `${nf(2).format(v)}\u00a0ha`);
const fmtPct = (v) => (v == null ? '—' : `${nf(2).format(v)}\u00a0%`);
const fmtInt = (v) => (v == null ? '—' : nf(0).format(v));
const fmtDate = (iso) => new Intl.DateTimeFormat(LOCALES[state.lang], { timeZone: 'UTC', day: 'numeric', month: state.lang === 'vi' ? '2-digit' : 'short', year: 'numeric' }).format(new Date(iso + 'T00:00:00Z'));
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A date as the date field writes it: 30/06/2010 in Vietnamese, 30 Jun 2010 in English. */
function fmtDateField(iso, lang = state.lang) {
  const [y, m, d] = iso.split('-');
  return lang === 'vi' ? `${d}/${m}/${y}` : `${Number(d)} ${MONTHS_EN[Number(m) - 1]} ${y}`;
}
/** What was typed in the date field as yyyy-mm-dd: dd/mm/yyyy (or with . or -), yyyy-mm-dd, "30 Jun 2010"; else null. */
function parseDateField(text) {
  const s = String(text ?? '').trim();
  let y; let m; let d; let r;
  if ((r = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s))) [, y, m, d] = r;
  else if ((r = /^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$/.exec(s))) [, d, m, y] = r;
  else if ((r = /^(\d{1,2})\s+([a-z]{3,})\.?,?\s+(\d{4})$/i.exec(s))) {
    [, d, , y] = r;
    m = MONTHS_EN.findIndex((mo) => r[2].slice(0, 3).toLowerCase() === mo.toLowerCase()) + 1;
    if (!m) return null;
  } else return null;
  const iso = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const back = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(back.getTime()) && back.toISOString().slice(0, 10) === iso ? iso : null;
}
const statusText = (s) => (s ? t('status_' + s) : '—');
const sourceText = (s) => (s ? t('source_' + s) : '');
/** 2023-06-30 → 30/06/2023, in either language (due dates, dates land was taken back). */
const fmtDMY = (iso) => (isDate(iso) ? iso.split('-').reverse().join('/') : String(iso ?? ''));
/** "Land taken back from project … on dd/mm/yyyy" for an available-land piece with recovered_from, else ''. */
function recoveredText(p) {
  const ids = String(p?.recovered_from ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return ids.length ? t('recoveredFrom')(ids, fmtDMY(p.recovered_on)) : '';
}

/** Folds Vietnamese to plain ASCII-ish lower case: "Quế Võ" and "que vo" both become "que vo". */
export function fold(s) {
  return String(s ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

async function getJSON(path) {
  const res = await fetch(api(path), { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let detail = '';
    try { detail = (await res.json()).detail || ''; } catch { /* not JSON */ }
    throw Object.assign(new Error(`${res.status} ${path}${detail ? ': ' + detail : ''}`), { status: res.status, detail });
  }
  return res.json();
}

function reportError(err) {
  console.error('landbank:', err);
  const line = $('#status-line');
  line.textContent = `${t('loadError')}: ${err.message || err}`;
  line.classList.add('error');
}

/**
 * The page's state in its URL (history.replaceState): date, language, province and the available-land
 * panel (its filters as they stand, open or not, whether a search ran, the chosen piece), so that the
 * address can be shared; see availableFromUrl for the way back.
 */
function syncUrl() {
  const p = new URLSearchParams();
  if (state.at !== todayInVietnam()) p.set('at', state.at);
  p.set('lang', state.lang);
  p.set('province', state.province);
  for (const [k, v] of availableUrlParams()) p.set(k, v);
  // Commas (near=lon,lat) need no escaping in a query: left as they are, the link stays readable.
  history.replaceState(null, '', `${location.pathname}?${String(p).replace(/%2C/gi, ',')}`);
  const link = $('#available-link');
  if (link && !link.hidden) link.value = location.href;
}

// ---------------------------------------------------------------------------------------------
// Zones index (names, provinces, bounding boxes) from the OGC API collection

const zoneIndex = new Map(); // code -> {code, name, province, bbox:[w,s,e,n], folded, centre}

function bboxOf(geometry) {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  if (geometry) walk(geometry.coordinates);
  return Number.isFinite(w) ? [w, s, e, n] : null;
}

function indexZones(fc) {
  for (const f of fc.features || []) {
    const p = f.properties || {};
    const code = p.code ?? f.id;
    const bbox = bboxOf(f.geometry);
    if (!code || !bbox) continue;
    zoneIndex.set(code, {
      code,
      name: p.name || code,
      province: p.province_code,
      area: p.area_ha || 0,
      bbox,
      centre: [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2],
      folded: fold(p.name),
      foldedCode: fold(code),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Reference geography: provinces before and after the mergers of 01/07/2025. Zones keep the
// province code they were recorded with; the unit holding them on a date is found from here.

const units = new Map(); // code -> {code, name, validFrom, validTo, successor, predecessors: []}

function indexUnits(fc) {
  for (const f of fc.features || []) {
    const p = f.properties || {};
    const code = p.province_code ?? f.id;
    if (!code) continue;
    const preds = Array.isArray(p.predecessor_codes) ? p.predecessor_codes : String(p.predecessor_codes || '').split(',');
    units.set(code, {
      code,
      name: p.name || code,
      validFrom: p.valid_from || null,
      validTo: p.valid_to || null,
      successor: p.successor_code || null,
      predecessors: preds.map((c) => c.trim()).filter(Boolean),
    });
  }
}

/** Every unit `code` was formed from, transitively. */
function predecessorsOf(code) {
  const seen = new Set();
  const walk = (c) => {
    for (const pre of units.get(c)?.predecessors || []) if (!seen.has(pre)) { seen.add(pre); walk(pre); }
  };
  walk(code);
  return seen;
}

/** The unit holding the territory of `code` on `at`: `code` itself, or its successor once it has ended. */
function unitOn(code, at = state.at) {
  let c = code;
  for (let i = 0; i < 10; i += 1) {
    const u = units.get(c);
    if (!u?.validTo || at < u.validTo || !u.successor) break;
    c = u.successor;
  }
  return c;
}

/** Does a zone recorded under province `recorded` lie in unit `code` on `at`? No `code`: all provinces. */
function inProvince(recorded, code, at = state.at) {
  if (!code) return true;
  if (!recorded) return false;
  return recorded === code || predecessorsOf(code).has(recorded) || unitOn(recorded, at) === code;
}

function provinceName(code) {
  return provinces.find((p) => p.province_code === code)?.province_name || units.get(code)?.name || code || '';
}

function unionBbox(boxes) {
  if (!boxes.length) return null;
  return boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]);
}
function provinceBbox(code) {
  const boxes = [...zoneIndex.values()].filter((z) => inProvince(z.province, code)).map((z) => z.bbox);
  return unionBbox(boxes);
}
const toBounds = (b) => [[b[0], b[1]], [b[2], b[3]]];

/** Padding for fitting bounds, leaving room for the layers card over the map's lower left. */
function fitPadding(base = 40) {
  const card = document.querySelector('#layers-card');
  const wrap = document.querySelector('#map-wrap');
  const pad = { top: base, right: base + 20, bottom: base, left: base };
  if (card && wrap && wrap.clientWidth > 2 * card.offsetWidth + 200) pad.left = card.offsetWidth + 12 + base;
  return pad;
}

// Zone centres coloured by occupancy as of state.at (from /occupancy), for small zooms.
const zoneOccupancy = new Map(); // code -> occupancy_pct or null
function zonePoints() {
  return {
    type: 'FeatureCollection',
    features: [...zoneIndex.values()].map((z) => {
      const properties = { code: z.code, name: z.name };
      const pct = zoneOccupancy.get(z.code);
      if (pct != null) properties.occupancy_pct = pct;
      return { type: 'Feature', properties, geometry: { type: 'Point', coordinates: z.centre } };
    }),
  };
}
async function loadZoneOccupancy() {
  const at = state.at;
  try {
    const d = await getJSON(`occupancy?at=${at}`);
    if (at !== state.at) return null;
    zoneOccupancy.clear();
    for (const z of d.zones || []) zoneOccupancy.set(z.zone_code, z.in_scope === false ? null : z.occupancy_pct);
    map?.getSource('zone-points')?.setData(zonePoints());
    return d;
  } catch (err) {
    reportError(err);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Tiles: TileJSON per collection, tile URLs carrying ?at=

const tileTemplates = {}; // collection -> absolute template without `at`
const tileJsons = {};

function absoluteTemplate(template, base) {
  // Keep {z}/{x}/{y} out of URL parsing, which would percent-encode the braces.
  const masked = template.replace(/\{(z|x|y)\}/g, '__$1__');
  return new URL(masked, base).href.replace(/__(z|x|y)__/g, '{$1}');
}
function withAt(template, at) {
  const [path, query = ''] = template.split('?');
  const q = query.split('&').filter((kv) => kv && !kv.startsWith('at='));
  q.push(`at=${encodeURIComponent(at)}`);
  return `${path}?${q.join('&')}`;
}

async function loadTileJson(collection) {
  const url = api(`tiles/${collection}.json`);
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${res.status} tiles/${collection}.json`);
    const tj = await res.json();
    tileJsons[collection] = tj;
    tileTemplates[collection] = absoluteTemplate((tj.tiles || [])[0] || `${collection}/{z}/{x}/{y}.mvt`, url);
  } catch (err) {
    reportError(err);
    tileJsons[collection] = {};
    tileTemplates[collection] = api(`tiles/${collection}/{z}/{x}/{y}.mvt`);
  }
}

function vectorSource(collection) {
  const tj = tileJsons[collection] || {};
  const src = { type: 'vector', tiles: [withAt(tileTemplates[collection], state.at)] };
  if (Number.isFinite(tj.minzoom)) src.minzoom = tj.minzoom;
  if (Number.isFinite(tj.maxzoom)) src.maxzoom = tj.maxzoom;
  if (Array.isArray(tj.bounds) && tj.bounds.length === 4) src.bounds = tj.bounds;
  if (tj.attribution) src.attribution = tj.attribution;
  return src;
}

function layerMinzoom(collection, wanted) {
  const tj = tileJsons[collection] || {};
  return Math.max(wanted, Number.isFinite(tj.minzoom) ? tj.minzoom : 0);
}

// ---------------------------------------------------------------------------------------------
// Style

function graticule() {
  const features = [];
  const W = 98; const E = 114; const S = 6; const N = 26;
  for (let i = Math.round(W * 10); i <= E * 10; i += 1) {
    features.push({ type: 'Feature', properties: { major: i % 10 === 0 }, geometry: { type: 'LineString', coordinates: [[i / 10, S], [i / 10, N]] } });
  }
  for (let i = S * 10; i <= N * 10; i += 1) {
    features.push({ type: 'Feature', properties: { major: i % 10 === 0 }, geometry: { type: 'LineString', coordinates: [[W, i / 10], [E, i / 10]] } });
  }
  return { type: 'FeatureCollection', features };
}

/** The map's style; `basemap` is a raster source (basemapSource) or null for the plain background. */
function buildStyle(basemap) {
  const sources = {};
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f3ef' } }];

  if (basemap) {
    sources.basemap = basemap;
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-saturation': -0.55, 'raster-contrast': -0.05 } });
  } else {
    sources.graticule = { type: 'geojson', data: graticule() };
    layers.push(
      { id: 'graticule-minor', type: 'line', source: 'graticule', minzoom: 9, filter: ['!', ['get', 'major']], paint: { 'line-color': '#e4e2dc', 'line-width': 1 } },
      { id: 'graticule-major', type: 'line', source: 'graticule', filter: ['get', 'major'], paint: { 'line-color': '#d9d6ce', 'line-width': 1.2 } },
    );
    sources.towns = {
      type: 'geojson',
      data: { type: 'FeatureCollection', features: TOWNS.map((tw) => ({ type: 'Feature', properties: { name: tw.name, capital: !!tw.capital }, geometry: { type: 'Point', coordinates: tw.lngLat } })) },
    };
  }

  for (const c of ['zones', 'plots', 'clearance_parcels', 'available_land']) sources[c] = vectorSource(c);
  sources['zone-points'] = { type: 'geojson', data: zonePoints() };
  sources['available-results'] = { type: 'geojson', data: availableResultsData(), promoteId: 'id' };
  const vis = (key) => (state.visible[key] ? 'visible' : 'none');

  layers.push(
    {
      id: 'zones-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', layout: { visibility: vis('zones') },
      paint: { 'fill-color': ZONES_FILL_COLOR, 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 7, 0.95, 12.5, 0.85, 13.5, 0.35, 16, 0.2] },
    },
    {
      id: 'clearance-fill', type: 'fill', source: 'clearance_parcels', 'source-layer': 'clearance_parcels',
      minzoom: layerMinzoom('clearance_parcels', groupMinzoom('clearance_parcels')), layout: { visibility: vis('clearance_parcels') },
      paint: { 'fill-color': matchColor('status', CLEARANCE_COLORS, '#999999'), 'fill-opacity': 0.8 },
    },
    {
      id: 'clearance-outline', type: 'line', source: 'clearance_parcels', 'source-layer': 'clearance_parcels',
      minzoom: layerMinzoom('clearance_parcels', groupMinzoom('clearance_parcels')), layout: { visibility: vis('clearance_parcels') },
      paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.4, 16, 1.2] },
    },
    {
      id: 'plots-fill', type: 'fill', source: 'plots', 'source-layer': 'plots',
      minzoom: layerMinzoom('plots', groupMinzoom('plots')), layout: { visibility: vis('plots') },
      paint: { 'fill-color': matchColor('lease_status', LEASE_COLORS, '#999999'), 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 13, 0.7, 15, 0.85] },
    },
    {
      id: 'plots-outline', type: 'line', source: 'plots', 'source-layer': 'plots',
      minzoom: layerMinzoom('plots', groupMinzoom('plots')), layout: { visibility: vis('plots') },
      paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.5, 16, 1.5] },
    },
    {
      id: 'available-fill', type: 'fill', source: 'available_land', 'source-layer': 'available_land',
      minzoom: layerMinzoom('available_land', groupMinzoom('available_land')), layout: { visibility: vis('available_land') },
      paint: { 'fill-color': ['case', ['to-boolean', ['get', 'ready']], AVAILABLE_COLORS.ready, AVAILABLE_COLORS.not_ready], 'fill-opacity': 0.9 },
    },
    {
      id: 'available-outline', type: 'line', source: 'available_land', 'source-layer': 'available_land',
      minzoom: layerMinzoom('available_land', groupMinzoom('available_land')), layout: { visibility: vis('available_land') },
      paint: { 'line-color': AVAILABLE_COLORS.line, 'line-width': 1.2, 'line-dasharray': [2, 1] },
    },
    // Land taken back from projects: hatched (the image is made by hatchImage) and outlined.
    {
      id: 'available-recovered', type: 'fill', source: 'available_land', 'source-layer': 'available_land', filter: RECOVERED_FILTER,
      minzoom: layerMinzoom('available_land', groupMinzoom('available_land')), layout: { visibility: vis('available_land') },
      paint: { 'fill-pattern': RECOVERED_PATTERN },
    },
    {
      id: 'available-recovered-outline', type: 'line', source: 'available_land', 'source-layer': 'available_land', filter: RECOVERED_FILTER,
      minzoom: layerMinzoom('available_land', groupMinzoom('available_land')), layout: { visibility: vis('available_land') },
      paint: { 'line-color': RECOVERED_COLOR, 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 1.5, 16, 3] },
    },
    {
      id: 'zones-outline', type: 'line', source: 'zones', 'source-layer': 'zones', layout: { visibility: vis('zones') },
      paint: {
        'line-color': '#1c3550',
        'line-width': ['interpolate', ['linear'], ['zoom'], 7, 0.5, 11, 1.2, 15, 2.2],
        'line-opacity': 0.85,
      },
    },
    // Results of the "find available land" panel, over the zones; hidden while the panel is closed.
    {
      id: 'available-results', type: 'fill', source: 'available-results', layout: { visibility: availableVisibility() },
      paint: { 'fill-color': RESULT_COLORS.fill, 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 9, 0.75, 12.5, 0.5, 14, 0.12, 15, 0.06] },
    },
    {
      id: 'available-results-outline', type: 'line', source: 'available-results', layout: { visibility: availableVisibility() },
      paint: { 'line-color': RESULT_COLORS.line, 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1, 14, 2.5] },
    },
    {
      id: 'available-selected-fill', type: 'fill', source: 'available-results', filter: ['==', ['get', 'id'], ''], layout: { visibility: availableVisibility() },
      paint: { 'fill-color': RESULT_COLORS.fill, 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 9, 0.25, 13, 0.12, 14.5, 0] },
    },
    {
      id: 'available-selected', type: 'line', source: 'available-results', filter: ['==', ['get', 'id'], ''], layout: { visibility: availableVisibility() },
      paint: { 'line-color': RESULT_COLORS.selected, 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 2.5, 14, 4] },
    },
    {
      id: 'zones-points', type: 'circle', source: 'zone-points', maxzoom: POINTS_MAXZOOM, layout: { visibility: vis('zones') },
      paint: {
        'circle-color': ZONES_FILL_COLOR,
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 3.5, 9, 6],
        'circle-stroke-color': '#1c3550',
        'circle-stroke-width': 1,
        'circle-opacity': ['interpolate', ['linear'], ['zoom'], 8, 1, POINTS_MAXZOOM, 0],
        'circle-stroke-opacity': ['interpolate', ['linear'], ['zoom'], 8, 1, POINTS_MAXZOOM, 0],
      },
    },
    {
      id: 'zones-selected', type: 'line', source: 'zones', 'source-layer': 'zones', filter: ['==', ['get', 'code'], ''],
      paint: { 'line-color': '#f07c00', 'line-width': ['interpolate', ['linear'], ['zoom'], 7, 2, 14, 4] },
    },
  );

  if (!basemap) {
    layers.push({
      id: 'towns', type: 'circle', source: 'towns',
      paint: {
        'circle-radius': ['case', ['get', 'capital'], 4.5, 3],
        'circle-color': '#ffffff',
        'circle-stroke-color': '#57534a',
        'circle-stroke-width': ['case', ['get', 'capital'], 2, 1.5],
      },
    });
  }
  return { version: 8, sources, layers };
}

// ---------------------------------------------------------------------------------------------
// HTML labels. The style has no `glyphs` URL (the page loads nothing from outside the service, and
// the service has no glyph server), so MapLibre cannot draw text: zone names, towns and plot codes are
// positioned HTML elements, placed here with our own collision test.

const labels = []; // zone and town labels: {el, marker, lngLat, kind, code?, bbox?, minzoom, priority, w, h}
const plotLabels = new Map(); // "zone_code/code" -> {el, marker, lngLat, bbox, code, w, h}
let map;

// Zone names from this zoom; below it the zones are dots and the names would pile up.
const ZONE_LABEL_MINZOOM = 9;
// Plot codes from this zoom, for at most this many plots (those nearest the centre of the view), and
// only where the code fits inside its plot (turned upright in a tall, narrow plot).
const PLOT_LABEL_MINZOOM = 15;
const MAX_PLOT_LABELS = 150;

function addLabels(withTowns) {
  for (const z of [...zoneIndex.values()].sort((a, b) => b.area - a.area)) {
    const el = document.createElement('div');
    el.className = 'map-label zone-label hidden';
    el.textContent = z.name;
    el.dataset.code = z.code;
    // Anchored at the zone's centre; layoutLabels moves it beside the zone with the marker's offset.
    const marker = new maplibregl.Marker({ element: el, anchor: 'center' }).setLngLat(z.centre).addTo(map);
    labels.push({ el, marker, lngLat: z.centre, kind: 'zone', code: z.code, bbox: z.bbox, minzoom: ZONE_LABEL_MINZOOM, priority: 1 });
  }
  if (withTowns) {
    for (const tw of TOWNS) {
      const el = document.createElement('div');
      el.className = 'map-label town-label hidden' + (tw.capital ? ' capital' : '');
      el.textContent = tw.name;
      const marker = new maplibregl.Marker({ element: el, anchor: 'left', offset: [7, 0] }).setLngLat(tw.lngLat).addTo(map);
      labels.push({ el, marker, lngLat: tw.lngLat, kind: 'town', minzoom: tw.capital ? 5 : 8, priority: tw.capital ? 3 : 0 });
    }
  }
  layoutLabels();
}

let labelFrame = 0;
function scheduleLabels() {
  if (!labelFrame) labelFrame = requestAnimationFrame(() => { labelFrame = 0; layoutLabels(); });
}

const overlaps = (a, b, pad = 0) => a[0] < b[2] + pad && a[2] + pad > b[0] && a[1] < b[3] + pad && a[3] + pad > b[1];

/** Screen box [x0, y0, x1, y1] of a lon/lat box on the map. */
function screenBox(b) {
  const p = map.project([b[0], b[3]]);
  const q = map.project([b[2], b[1]]);
  return [Math.min(p.x, q.x), Math.min(p.y, q.y), Math.max(p.x, q.x), Math.max(p.y, q.y)];
}

/** What lies over the map (layers card, controls), in the map's pixels: no label goes under it. */
function overlayBoxes() {
  const origin = map.getContainer().getBoundingClientRect();
  const boxes = [];
  for (const el of document.querySelectorAll('#layers-card, #map .maplibregl-ctrl')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.height) boxes.push([r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top]);
  }
  return boxes;
}

function measure(l) {
  if (!l.w) { l.w = l.el.offsetWidth; l.h = l.el.offsetHeight; }
}

function hideLabel(l) {
  l.el.classList.add('hidden');
}

function layoutLabels() {
  if (!map) return;
  const zoom = map.getZoom();
  const { clientWidth: W, clientHeight: H } = map.getContainer();
  const inView = (b) => b[0] >= 2 && b[1] >= 2 && b[2] <= W - 2 && b[3] <= H - 2;
  const placed = overlayBoxes();
  const free = (b, pad = 3) => !placed.some((p) => overlaps(b, p, pad));
  // Where the zones are drawn: a name may touch its own zone, never another one.
  const showZones = state.visible.zones && zoom >= ZONE_LABEL_MINZOOM;
  const footprints = [];
  if (showZones) {
    for (const l of labels) {
      if (l.kind !== 'zone') continue;
      const b = screenBox(l.bbox);
      l.screen = b;
      if (b[2] >= 0 && b[0] <= W && b[3] >= 0 && b[1] <= H) footprints.push({ code: l.code, box: b });
    }
  }
  const clearOfZones = (box, own) => !footprints.some((f) => f.code !== own && overlaps(box, f.box, 1));

  const ordered = [...labels].sort((a, b) => (b.code === state.selectedZone) - (a.code === state.selectedZone) || b.priority - a.priority);
  for (const l of ordered) {
    if (zoom < l.minzoom || (l.kind === 'zone' && !showZones)) { hideLabel(l); continue; }
    measure(l);
    let box = null;
    if (l.kind === 'town') {
      const p = map.project(l.lngLat);
      const b = [p.x - 6, p.y - l.h / 2, p.x + 7 + l.w, p.y + l.h / 2];
      if (inView(b) && free(b) && clearOfZones(b, null)) box = b;
    } else {
      // Below the zone, above it, right of it, left of it, or inside it when it is big enough.
      const [x0, y0, x1, y1] = l.screen;
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      const { w, h } = l;
      const candidates = [
        [cx - w / 2, y1 + 3, cx + w / 2, y1 + 3 + h],
        [cx - w / 2, y0 - 3 - h, cx + w / 2, y0 - 3],
        [x1 + 4, cy - h / 2, x1 + 4 + w, cy + h / 2],
        [x0 - 4 - w, cy - h / 2, x0 - 4, cy + h / 2],
      ];
      // Inside: at the middle of the part of the zone in view, when the name fits there with room to spare.
      const vx0 = Math.max(x0, 0); const vx1 = Math.min(x1, W); const vy0 = Math.max(y0, 0); const vy1 = Math.min(y1, H);
      if (vx1 - vx0 > w + 40 && vy1 - vy0 > h + 40) {
        const mx = (vx0 + vx1) / 2; const my = (vy0 + vy1) / 2;
        candidates.push([mx - w / 2, my - h / 2, mx + w / 2, my + h / 2]);
      }
      box = candidates.find((b) => inView(b) && free(b) && clearOfZones(b, l.code)) || null;
      // The chosen zone keeps its name, beside it, even where that covers a neighbour.
      if (!box && l.code === state.selectedZone) box = candidates.find((b) => inView(b) && free(b)) || null;
      if (box) {
        const p = map.project(l.lngLat);
        const off = [Math.round((box[0] + box[2]) / 2 - p.x), Math.round((box[1] + box[3]) / 2 - p.y)];
        const cur = l.marker.getOffset();
        if (cur.x !== off[0] || cur.y !== off[1]) l.marker.setOffset(off);
      }
    }
    if (!box) { hideLabel(l); continue; }
    l.el.classList.remove('hidden');
    l.el.classList.toggle('selected', l.code != null && l.code === state.selectedZone);
    placed.push(box);
  }
  layoutPlotLabels(placed, inView, W, H);
}

/** Plot codes: after the names, where they fit inside their plot and clear of every other label. */
function layoutPlotLabels(placed, inView, W, H) {
  const list = [...plotLabels.values()];
  for (const l of list) {
    // The part of the plot in view: the code goes in its middle.
    const b = screenBox(l.bbox);
    l.vis = [Math.max(b[0], 2), Math.max(b[1], 2), Math.min(b[2], W - 2), Math.min(b[3], H - 2)];
    l.dist = Math.hypot((l.vis[0] + l.vis[2]) / 2 - W / 2, (l.vis[1] + l.vis[3]) / 2 - H / 2);
  }
  list.sort((a, b) => a.dist - b.dist);
  for (const l of list) {
    measure(l);
    const [x0, y0, x1, y1] = l.vis;
    const bw = x1 - x0;
    const bh = y1 - y0;
    // Across the plot when it fits, else upright in a tall plot, else not at all.
    const across = l.w + 6 <= bw && l.h + 2 <= bh;
    const upright = !across && l.h + 2 <= bw && l.w + 6 <= bh;
    const [w, h] = upright ? [l.h, l.w] : [l.w, l.h];
    const mx = (x0 + x1) / 2;
    const my = (y0 + y1) / 2;
    const box = [mx - w / 2, my - h / 2, mx + w / 2, my + h / 2];
    if (!(across || upright) || !inView(box) || placed.some((p) => overlaps(box, p, 2))) { hideLabel(l); continue; }
    const p = map.project(l.lngLat);
    const off = [Math.round(mx - p.x), Math.round(my - p.y)];
    const cur = l.marker.getOffset();
    if (cur.x !== off[0] || cur.y !== off[1]) l.marker.setOffset(off);
    l.el.classList.toggle('upright', upright);
    l.el.classList.remove('hidden');
    placed.push(box);
  }
}

/** The plots drawn in view (from the plot tiles' `code` and `zone_code`) get a code label each, up to MAX_PLOT_LABELS. */
function updatePlotLabels() {
  if (!map) return;
  const want = new Map();
  if (state.visible.plots && map.getZoom() >= PLOT_LABEL_MINZOOM && map.getLayer('plots-fill')) {
    for (const f of map.queryRenderedFeatures({ layers: ['plots-fill'] })) {
      const p = f.properties || {};
      if (p.code == null || p.code === '') continue;
      const box = bboxOf(f.geometry);
      if (!box) continue;
      // A plot can come in pieces from several tiles: one label for the whole of it.
      const key = `${p.zone_code}/${p.code}`;
      const had = want.get(key);
      want.set(key, { code: String(p.code), bbox: had ? unionBbox([had.bbox, box]) : box });
    }
  }
  const { clientWidth: W, clientHeight: H } = map.getContainer();
  const chosen = [...want.entries()]
    .map(([key, v]) => {
      const c = [(v.bbox[0] + v.bbox[2]) / 2, (v.bbox[1] + v.bbox[3]) / 2];
      const p = map.project(c);
      return { key, ...v, lngLat: c, dist: Math.hypot(p.x - W / 2, p.y - H / 2) };
    })
    .sort((a, b) => a.dist - b.dist)
    .slice(0, MAX_PLOT_LABELS);
  const keep = new Set(chosen.map((v) => v.key));
  for (const [key, l] of plotLabels) {
    if (!keep.has(key)) { l.marker.remove(); plotLabels.delete(key); }
  }
  for (const v of chosen) {
    const l = plotLabels.get(v.key);
    if (l) {
      l.bbox = v.bbox;
      if (l.lngLat[0] !== v.lngLat[0] || l.lngLat[1] !== v.lngLat[1]) { l.lngLat = v.lngLat; l.marker.setLngLat(v.lngLat); }
      continue;
    }
    const el = document.createElement('div');
    el.className = 'map-label plot-label hidden';
    el.dataset.zone = v.key.slice(0, v.key.lastIndexOf('/'));
    el.dataset.code = v.code;
    const span = document.createElement('span');
    span.textContent = v.code;
    el.append(span);
    const marker = new maplibregl.Marker({ element: el, anchor: 'center' }).setLngLat(v.lngLat).addTo(map);
    plotLabels.set(v.key, { el, marker, lngLat: v.lngLat, bbox: v.bbox, code: v.code });
  }
  layoutLabels();
}

// ---------------------------------------------------------------------------------------------
// Layers panel with legends

function legendItems(key) {
  if (key === 'zones') {
    return [...OCC_CLASSES.map((c) => ({ color: c.color, label: c.label })), { color: NO_DATA_COLOR, label: t('noData') }];
  }
  if (key === 'plots') return Object.entries(LEASE_COLORS).map(([k, color]) => ({ color, label: t('lease_' + k) }));
  if (key === 'clearance_parcels') return Object.entries(CLEARANCE_COLORS).map(([k, color]) => ({ color, label: t('clearance_' + k) }));
  if (key === 'available_land') {
    return [{ color: AVAILABLE_COLORS.ready, label: t('ready') }, { color: AVAILABLE_COLORS.not_ready, label: t('notReady') },
      { hatch: RECOVERED_COLOR, label: t('recovered') }];
  }
  return [];
}

/** A legend entry: a colour swatch, or the hatch of land taken back (drawn as on the map, over ready land). */
function legendItem(i) {
  const mark = i.hatch
    ? `<span class="legend-hatch" style="--hatch:${i.hatch};--under:${AVAILABLE_COLORS.ready}"></span>`
    : `<span class="swatch" style="background:${i.color}"></span>`;
  return `<li${i.hatch ? ' data-hatch="1"' : ''}>${mark}${esc(i.label)}</li>`;
}

/** The hatch of land taken back: diagonal lines in RECOVERED_COLOR, the piece's own colour between them. */
function hatchImage(ratio = 2) {
  const size = 10 * ratio;
  const c = document.createElement('canvas');
  c.width = size; c.height = size;
  const ctx = c.getContext('2d');
  ctx.strokeStyle = RECOVERED_COLOR;
  ctx.lineWidth = 1.6 * ratio;
  ctx.lineCap = 'square';
  ctx.beginPath();
  // One diagonal and the two corner pieces that continue it across the tile's edges (seamless).
  for (const o of [-size, 0, size]) { ctx.moveTo(o, size); ctx.lineTo(o + size, 0); }
  ctx.stroke();
  return { image: ctx.getImageData(0, 0, size, size), pixelRatio: ratio };
}

function renderLayers() {
  const root = $('#layers');
  root.innerHTML = GROUPS.map((g) => `
    <div class="layer ${state.visible[g.key] ? '' : 'off'}" data-key="${g.key}">
      <label class="layer-toggle">
        <input type="checkbox" id="layer-${g.key}" ${state.visible[g.key] ? 'checked' : ''}>
        <span class="layer-name">${esc(t('layer_' + g.key))}</span>
        <span class="zoom-hint" data-minzoom="${g.minzoom}">${esc(t('zoomIn'))}</span>
      </label>
      <ul class="legend">${legendItems(g.key).map(legendItem).join('')}</ul>
    </div>`).join('');
  for (const g of GROUPS) {
    $(`#layer-${g.key}`).addEventListener('change', (ev) => {
      state.visible[g.key] = ev.target.checked;
      ev.target.closest('.layer').classList.toggle('off', !ev.target.checked);
      for (const id of g.layers) if (map?.getLayer(id)) map.setLayoutProperty(id, 'visibility', ev.target.checked ? 'visible' : 'none');
      updatePlotLabels();
    });
  }
  updateZoomHints();
}

function updateZoomHints() {
  if (!map) return;
  const z = map.getZoom();
  for (const el of document.querySelectorAll('.zoom-hint')) el.classList.toggle('shown', z < Number(el.dataset.minzoom));
}

// ---------------------------------------------------------------------------------------------
// Popup: zone figures from /zones/{code}/occupancy, plus what else was clicked

let popup;
const popupCtx = { token: 0, lngLat: null, zoneCode: null, zone: null, zoneError: null, plot: null, plotDetail: null, parcel: null, piece: null };

function zoneSection() {
  const code = popupCtx.zoneCode;
  if (!code) return '';
  const z = popupCtx.zone;
  const name = z?.zone_name || zoneIndex.get(code)?.name || code;
  const head = `<div class="pp-head"><span class="pp-kind">${esc(t('zone'))}</span><span class="pp-title">${esc(name)}</span><span class="pp-code">${esc(code)}</span></div>`;
  if (popupCtx.zoneError) return `<section class="pp-zone">${head}<p class="pp-error">${esc(t('loadError'))}</p></section>`;
  if (!z) return `<section class="pp-zone">${head}<p class="pp-muted">${esc(t('loading'))}</p><span id="zone-popup-occupancy" class="pending"></span></section>`;
  const pct = z.occupancy_pct;
  const barW = pct == null ? 0 : Math.max(0, Math.min(100, pct));
  return `<section class="pp-zone">${head}
    <div class="pp-sub">${esc(statusText(z.status))} · ${esc(t('asOfShort'))} ${esc(fmtDate(z.at || state.at))}${z.in_scope === false ? ` · ${esc(t('outOfScope'))}` : ''}</div>
    <div class="pp-kpi"><span>${esc(t('occupancy'))}</span><strong id="zone-popup-occupancy" data-value="${pct ?? ''}" data-at="${esc(z.at || state.at)}">${esc(fmtPct(pct))}</strong></div>
    <div class="pp-bar"><span style="width:${barW}%;background:${occColor(pct)}"></span></div>
    <dl class="pp-stats">
      <dt>${esc(t('leasable'))}</dt><dd>${esc(fmtHa(z.leasable_ha))}</dd>
      <dt>${esc(t('leased'))}</dt><dd>${esc(fmtHa(z.leased_ha))}</dd>
      <dt>${esc(t('reserved'))}</dt><dd>${esc(fmtHa(z.reserved_ha))}</dd>
      <dt>${esc(t('available'))}</dt><dd>${esc(fmtHa(z.available_ha))}</dd>
    </dl>
    <div class="pp-src">${esc(t('sourceLabel'))}: ${esc(sourceText(z.source))}</div>
  </section>`;
}

function plotSection() {
  const p = popupCtx.plot;
  if (!p) return '';
  const d = popupCtx.plotDetail;
  const area = d?.area_ha != null ? ` · ${esc(fmtHa(d.area_ha))}` : '';
  const infra = d?.infra_ready_on ? `<div class="pp-line pp-muted">${esc(t('infraReady'))} ${esc(fmtDate(d.infra_ready_on))}</div>` : '';
  return `<section class="pp-part">
    <div class="pp-line"><span class="swatch" style="background:${LEASE_COLORS[p.lease_status] || '#999'}"></span>
      <strong>${esc(t('plot'))} <span id="plot-popup-code">${esc(p.code)}</span></strong> · ${esc(t('lease_' + p.lease_status))}${area}</div>${infra}
  </section>`;
}

function parcelSection() {
  const p = popupCtx.parcel;
  if (!p) return '';
  return `<section class="pp-part"><div class="pp-line"><span class="swatch" style="background:${CLEARANCE_COLORS[p.status] || '#999'}"></span>
    <strong>${esc(t('parcel'))} ${esc(p.parcel_no)}</strong>, ${esc(t('sheet'))} ${esc(p.sheet_no)} · ${esc(t('clearance_' + p.status))}</div></section>`;
}

function pieceSection() {
  const p = popupCtx.piece;
  if (!p) return '';
  const ready = p.ready === true || p.ready === 'true';
  const back = recoveredText(p);
  return `<section class="pp-part"><div class="pp-line"><span class="swatch" style="background:${ready ? AVAILABLE_COLORS.ready : AVAILABLE_COLORS.not_ready}"></span>
    <strong>${esc(t('availablePiece'))}</strong> · ${esc(fmtHa(Number(p.area_ha)))} · ${esc(ready ? t('ready') : t('notReady'))}</div>
    ${back ? `<div class="pp-line pp-recovered"><span class="legend-hatch" style="--hatch:${RECOVERED_COLOR};--under:${AVAILABLE_COLORS.ready}" aria-hidden="true"></span><span>${esc(back)}</span></div>` : ''}</section>`;
}

function renderPopup() {
  if (!popup || !popup.isOpen()) return;
  popup.setHTML(`<div class="pp">${zoneSection()}${plotSection()}${pieceSection()}${parcelSection()}</div>`);
  keepClickVisible();
}

function featuresAt(point) {
  const layers = CLICKABLE.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  const feats = map.queryRenderedFeatures(point, { layers });
  const pick = (id) => feats.find((f) => f.layer.id === id)?.properties || null;
  return { zone: pick('zones-fill') || pick('zones-points'), plot: pick('plots-fill'), parcel: pick('clearance-fill'), piece: pick('available-fill') || pick('available-results') };
}

function openPopup(lngLat, hit) {
  const zoneCode = hit.zone?.code || hit.plot?.zone_code || hit.piece?.zone_code || hit.parcel?.zone_code || null;
  if (!zoneCode && !hit.plot && !hit.parcel && !hit.piece) { closePopup(); return; }
  Object.assign(popupCtx, { token: popupCtx.token + 1, lngLat, zoneCode, zone: null, zoneError: null, plot: hit.plot, plotDetail: null, parcel: hit.parcel, piece: hit.piece });
  if (!popup) {
    // closeOnClick is ours: a click elsewhere on the map moves the popup or closes it.
    popup = new maplibregl.Popup({ maxWidth: '320px', focusAfterOpen: false, closeOnClick: false, className: 'lb-popup' });
    popup.on('close', () => { popupCtx.lngLat = null; popupCtx.token += 1; selectZone(null); });
  }
  popup.setLngLat(lngLat).setHTML('<div class="pp"></div>');
  if (!popup.isOpen()) popup.addTo(map);
  // On a phone the layers bar folds away, so that the figures have the map to themselves.
  if (phoneQuery.matches) setLayersCollapsed(true);
  fitPopupSheet();
  selectZone(zoneCode);
  renderPopup();
  fetchPopupData();
}

// On a phone the map is the upper half of the screen: the popup would run under the layers bar and
// off the map into the panel below. There it is a sheet across the map instead, from above the layers
// bar upwards, over everything else on the map, scrolling when it is taller than the room there.
const phoneQuery = matchMedia('(max-width: 760px)');

function fitPopupSheet() {
  if (!popup?.isOpen()) return;
  const el = popup.getElement();
  const sheet = phoneQuery.matches && !document.documentElement.classList.contains('printing');
  el.classList.toggle('lb-popup-sheet', sheet);
  if (!sheet) return;
  const wrap = $('#map-wrap').getBoundingClientRect();
  const card = $('#layers-card').getBoundingClientRect();
  const bottom = card.height ? Math.max(8, wrap.bottom - card.top + 8) : 8;
  el.style.setProperty('--sheet-bottom', `${Math.round(bottom)}px`);
  el.style.setProperty('--sheet-max', `${Math.max(120, Math.floor(wrap.height - bottom - 8))}px`);
}

/** On a phone: the clicked point moves into the part of the map the sheet leaves free. */
function keepClickVisible() {
  if (!popup?.isOpen() || !popupCtx.lngLat || !popup.getElement().classList.contains('lb-popup-sheet')) return;
  const top = popup.getElement().getBoundingClientRect().top - map.getContainer().getBoundingClientRect().top;
  const p = map.project(popupCtx.lngLat);
  if (p.y > 12 && p.y < top - 12) return;
  const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
  map.panBy([0, p.y - Math.max(12, (top - 12) / 2)], { duration: reduce ? 0 : 300 });
}

function closePopup() {
  popupCtx.lngLat = null;
  if (popup?.isOpen()) popup.remove();
  selectZone(null);
}

async function fetchPopupData() {
  const token = popupCtx.token;
  const at = state.at;
  const jobs = [];
  if (popupCtx.zoneCode) {
    jobs.push(getJSON(`zones/${encodeURIComponent(popupCtx.zoneCode)}/occupancy?at=${at}`)
      .then((z) => { if (token === popupCtx.token && at === state.at) { popupCtx.zone = z; popupCtx.zoneError = null; renderPopup(); } })
      .catch((err) => { if (token === popupCtx.token) { popupCtx.zoneError = err; renderPopup(); reportError(err); } }));
  }
  if (popupCtx.plot && !popupCtx.plotDetail) {
    const id = `${popupCtx.plot.zone_code}-${popupCtx.plot.code}`;
    jobs.push(getJSON(`collections/plots/items/${encodeURIComponent(id)}`)
      .then((f) => { if (token === popupCtx.token) { popupCtx.plotDetail = f.properties || {}; renderPopup(); } })
      .catch(() => { /* the area is a nicety: the popup already shows what the tile knows */ }));
  }
  await Promise.all(jobs);
}

// After the date changes: the zone's figures are fetched again at once, and what the tiles say
// (lease status, clearance status) is read again once the new tiles have rendered.
function refreshPopupForDate() {
  if (!popup?.isOpen() || !popupCtx.lngLat) return;
  popupCtx.token += 1;
  popupCtx.zone = null;
  renderPopup();
  fetchPopupData();
  const token = popupCtx.token;
  map.once('idle', () => {
    if (token !== popupCtx.token || !popup.isOpen()) return;
    const hit = featuresAt(map.project(popupCtx.lngLat));
    if (hit.plot?.code !== popupCtx.plot?.code) popupCtx.plotDetail = null;
    popupCtx.plot = hit.plot;
    popupCtx.parcel = hit.parcel;
    popupCtx.piece = hit.piece;
    renderPopup();
  });
}

function setLayersCollapsed(collapsed) {
  $('#layers-card').classList.toggle('collapsed', collapsed);
  $('#layers-toggle').setAttribute('aria-expanded', String(!collapsed));
  fitPopupSheet();
  layoutLabels();
}

function selectZone(code) {
  state.selectedZone = code;
  if (map?.getLayer('zones-selected')) map.setFilter('zones-selected', ['==', ['get', 'code'], code || '']);
  for (const row of document.querySelectorAll('.bar-row')) row.classList.toggle('selected', row.dataset.code === code);
  layoutLabels();
}

function flyToZone(code, { open = false } = {}) {
  const z = zoneIndex.get(code);
  if (!z) return;
  if (z.province && state.province !== '' && !inProvince(z.province, state.province)) selectProvince(unitOn(z.province));
  selectZone(code);
  const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
  map.fitBounds(toBounds(z.bbox), { padding: fitPadding(80), maxZoom: 14, duration: reduce ? 0 : 1200 });
  if (open) map.once('moveend', () => openPopup(new maplibregl.LngLat(...z.centre), featuresAt(map.project(z.centre))));
}

// ---------------------------------------------------------------------------------------------
// Province panel: the board's figures and occupancy by zone

let provinces = [];
let provinceData = null;
let provinceToken = 0;

function renderProvinceSelect() {
  const sel = $('#province-select');
  const options = provinces.map((p) => `<option value="${esc(p.province_code)}">${esc(p.province_name || p.province_code)}</option>`);
  // A unit kept selected on a date it does not hold zones on (or does not exist on) stays visible.
  if (state.province && !provinces.some((p) => p.province_code === state.province)) {
    options.push(`<option value="${esc(state.province)}">${esc(provinceName(state.province))} (${esc(state.province)})</option>`);
  }
  sel.innerHTML = [`<option value="">${esc(t('allProvinces'))}</option>`].concat(options).join('');
  sel.value = state.province;
}

/** The provinces of the national /occupancy answer for the page's date, by Vietnamese name. */
function setProvinces(list) {
  provinces = [...(list || [])].sort((a, b) => String(a.province_name).localeCompare(String(b.province_name), 'vi'));
}

/**
 * The province to select on `at` in place of `code`, with the figures for it when the answer asked
 * for is already them: `code` when the date's list has it; an ended unit's successor; a new unit's
 * one predecessor in the list (before it was formed); else `code` itself. An unknown code gives the default.
 */
async function followProvince(code, at, depth = 0) {
  if (!code || provinces.some((p) => p.province_code === code)) return { code };
  // Not a unit of the reference geography (when it loaded): no need to ask the service.
  if (units.size && !units.has(code)) return depth > 0 ? { code: '' } : followProvince(DEFAULT_PROVINCE, at, 1);
  let d;
  try {
    d = await getJSON(`occupancy?province_code=${encodeURIComponent(code)}&at=${at}`);
  } catch (err) {
    if (!/^404 /.test(err.message)) { reportError(err); return { code }; }
    return code === DEFAULT_PROVINCE || depth > 0 ? { code: '' } : followProvince(DEFAULT_PROVINCE, at, 1);
  }
  if (d.successor_code && d.successor_code !== code) {
    const next = d.successor_code;
    return provinces.some((p) => p.province_code === next) || depth >= 5 ? { code: next } : followProvince(next, at, depth + 1);
  }
  // Back before a merger: the predecessor that gave the unit its name (the new Bắc Ninh → old Bắc
  // Ninh), else the only predecessor holding zones, else the unit itself (its predecessors' territory).
  const preds = predecessorsOf(code);
  const held = provinces.filter((p) => preds.has(p.province_code));
  const name = units.get(code)?.name;
  const namesake = held.find((p) => units.get(p.province_code)?.name === name);
  if (namesake) return { code: namesake.province_code };
  if (held.length === 1) return { code: held[0].province_code };
  return { code, data: d };
}

/** The user (or a zone outside the province) chose `code`. */
function selectProvince(code) {
  state.province = code;
  renderProvinceSelect();
  syncUrl();
  loadProvince();
  loadWatch();
  provinceChangedForAvailable();
}

/** After the date changed: the list of the units existing then, the selected one followed into it. */
async function provincesForDate(at) {
  $('#province-figures').classList.add('loading');
  const national = await loadZoneOccupancy();
  if (at !== state.at) return;
  if (national) setProvinces(national.provinces);
  const from = state.province;
  const { code, data } = national ? await followProvince(from, at) : { code: from };
  if (at !== state.at) return;
  // The user may have picked a province meanwhile: their choice stands.
  if (state.province === from && code !== from) {
    state.province = code;
    syncUrl();
  }
  renderProvinceSelect();
  loadProvince(state.province === code ? data : null);
  loadWatch();
  provinceChangedForAvailable();
}

async function loadProvince(known = null) {
  const token = ++provinceToken;
  const at = state.at;
  $('#province-figures').classList.add('loading');
  try {
    const q = state.province ? `province_code=${encodeURIComponent(state.province)}&` : '';
    const d = known || await getJSON(`occupancy?${q}at=${at}`);
    if (token !== provinceToken) return;
    provinceData = d;
    renderProvince();
  } catch (err) {
    if (token === provinceToken) { reportError(err); $('#province-occupancy').textContent = '—'; }
  } finally {
    if (token === provinceToken) $('#province-figures').classList.remove('loading');
  }
}

function renderProvince() {
  const d = provinceData;
  if (!d) return;
  const occ = $('#province-occupancy');
  occ.textContent = fmtPct(d.occupancy_pct);
  occ.dataset.value = d.occupancy_pct ?? '';
  occ.dataset.at = d.at || state.at;
  $('#province-source').textContent = `${t('leasedOf')(fmtHa(d.leased_ha), fmtHa(d.leasable_ha))} · ${fmtDate(d.at || state.at)} · ${t('sourceLabel')}: ${sourceText(d.source)}`;
  $('#province-counts').innerHTML = [['zonesTotal', d.zones_total], ['zonesEstablished', d.zones_established], ['zonesOperating', d.zones_operating]]
    .map(([k, v]) => `<div class="count"><span class="count-value">${esc(fmtInt(v))}</span><span class="count-label">${esc(t(k))}</span></div>`).join('');
  const rows = [
    [t('plannedArea'), fmtHa(d.planned_area_ha)],
    [t('establishedArea'), fmtHa(d.established_area_ha)],
    [t('leasable'), fmtHa(d.leasable_ha)],
    [t('leased'), fmtHa(d.leased_ha)],
    [t('reserved'), fmtHa(d.reserved_ha)],
    [t('available'), fmtHa(d.available_ha)],
  ];
  $('#province-stats').innerHTML = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  // The service's own words (in English) when the unit did not exist as such on the date.
  const notice = $('#province-notice');
  notice.hidden = !d.notice;
  notice.innerHTML = d.notice ? `<span class="notice-label">${esc(t('notice'))}:</span> <span id="province-notice-text" lang="en">${esc(d.notice)}</span>` : '';

  const zones = [...(d.zones || [])].sort((a, b) => {
    const av = a.in_scope === false || a.occupancy_pct == null ? -1 : a.occupancy_pct;
    const bv = b.in_scope === false || b.occupancy_pct == null ? -1 : b.occupancy_pct;
    return bv - av || String(a.zone_name).localeCompare(String(b.zone_name), 'vi');
  });
  $('#zone-chart').innerHTML = zones.map((z) => {
    const counted = z.in_scope !== false && z.occupancy_pct != null;
    const pct = counted ? z.occupancy_pct : null;
    const w = pct == null ? 0 : Math.max(0.5, Math.min(100, pct));
    const title = counted ? `${z.zone_name}: ${t('leasedOf')(fmtHa(z.leased_ha), fmtHa(z.leasable_ha))}` : `${z.zone_name}: ${statusText(z.status)}`;
    return `<button type="button" role="listitem" class="bar-row${counted ? '' : ' muted'}${z.zone_code === state.selectedZone ? ' selected' : ''}" data-code="${esc(z.zone_code)}" title="${esc(title)}">
      <span class="bar-name">${esc(z.zone_name)}</span>
      <span class="bar-track">${counted ? `<span class="bar-fill" style="width:${w}%;background:${occColor(pct)}"></span>` : `<span class="bar-status">${esc(statusText(z.status))}</span>`}</span>
      <span class="bar-value">${counted ? esc(fmtPct(pct)) : '—'}</span>
    </button>`;
  }).join('');
  renderPrintSheet();
}

// ---------------------------------------------------------------------------------------------
// Watch list: the projects behind schedule on the page's date in the selected province, from
// /projects/behind (a row per project and milestone past due, listed here a project at a time with
// its milestones); an entry fits the map to its zone (geometry from /collections/zones/items/{code}).

const MILESTONES = ['land_handover', 'construction', 'operation'];
const watch = { token: 0, loading: false, data: null, error: null, at: null, province: null, selected: null };
const zoneGeometry = new Map(); // code -> Promise of the zone's bbox

function watchQuery(extra = {}) {
  const q = new URLSearchParams({ at: state.at });
  if (state.province) q.set('province_code', state.province);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q;
}

/** The list for the page's date and province (again after either changes). */
async function loadWatch() {
  if (!$('#watch-panel')) return;
  const token = ++watch.token;
  const at = state.at;
  const province = state.province;
  watch.loading = true;
  $('#watch-panel').classList.add('loading');
  renderWatchScope();
  try {
    const d = await getJSON(`projects/behind?${watchQuery()}`);
    if (token !== watch.token) return;
    Object.assign(watch, { data: d, error: null, at, province });
  } catch (err) {
    if (token !== watch.token) return;
    // Shown in the card, in the page's words, with the service's explanation (problem+json detail) after them.
    console.warn('landbank: projects behind:', err);
    const why = err.detail || (err.status ? `HTTP ${err.status}` : '');
    Object.assign(watch, { data: null, error: why, at, province });
  } finally {
    if (token === watch.token) {
      watch.loading = false;
      $('#watch-panel').classList.remove('loading');
      renderWatch();
    }
  }
}

/** The rows of the answer a project at a time (in the answer's order), milestones in their own order. */
function watchProjects(rows) {
  const byId = new Map();
  for (const r of rows || []) {
    const id = r.project_id ?? '';
    if (!byId.has(id)) byId.set(id, { ...r, milestones: [] });
    const p = byId.get(id);
    p.leased_ha = Math.max(Number(p.leased_ha) || 0, Number(r.leased_ha) || 0);
    p.milestones.push({ milestone: r.milestone, due_on: r.due_on, days_late: r.days_late });
  }
  const rank = (m) => (MILESTONES.includes(m) ? MILESTONES.indexOf(m) : MILESTONES.length);
  for (const p of byId.values()) p.milestones.sort((a, b) => rank(a.milestone) - rank(b.milestone));
  return [...byId.values()];
}

function renderWatchScope() {
  const scope = $('#watch-scope');
  if (scope) scope.textContent = `${t('province')}: ${provinceLabel(state.province)} · ${t('asOfShort')} ${fmtDate(state.at)}`;
}

function watchItem(p) {
  const zone = zoneIndex.get(p.zone_code)?.name || p.zone_code || '';
  const origin = p.origin === 'fdi' || p.origin === 'ddi'
    ? `<span class="badge" title="${esc(t('originTitle_' + p.origin))}">${esc(t('origin_' + p.origin))}</span>` : '';
  const milestones = p.milestones.map((m) => `<span class="wi-ms" data-milestone="${esc(m.milestone)}" data-due="${esc(m.due_on)}" data-days-late="${esc(m.days_late)}">
        <span class="wi-ms-what"><span class="wi-ms-name">${esc(MILESTONES.includes(m.milestone) ? t('milestone_' + m.milestone) : m.milestone)}</span>
        <span class="wi-ms-due">${esc(t('watchDue'))} ${esc(fmtDMY(m.due_on))}</span></span>
        <span class="wi-ms-late">${esc(t('watchLate')(fmtInt(m.days_late), Number(m.days_late)))}</span></span>`).join('');
  return `<li data-project="${esc(p.project_id)}" data-zone="${esc(p.zone_code)}"${p.project_id === watch.selected ? ' class="selected"' : ''}>
    <button type="button" class="watch-item" title="${esc(t('watchFit'))}" aria-current="${p.project_id === watch.selected}">
      <span class="wi-name">${esc(p.tenant_name || p.project_id)}</span>
      <span class="wi-area" data-value="${esc(p.leased_ha)}">${esc(fmtHa(p.leased_ha))}</span>
      <span class="wi-sub"><span class="wi-zone">${esc(zone)}</span> · ${esc(p.project_id)} ${origin}</span>
      <span class="wi-milestones">${milestones}</span>
    </button>
  </li>`;
}

function renderWatch() {
  if (!$('#watch-panel')) return;
  renderWatchScope();
  const d = watch.data;
  const err = $('#watch-error');
  err.hidden = watch.error == null;
  err.textContent = watch.error == null ? '' : `${t('watchError')}${watch.error ? `: ${watch.error}` : '.'}`;
  const summary = $('#watch-summary');
  summary.hidden = !d;
  const projects = d ? watchProjects(d.behind) : [];
  if (d) {
    const n = Number(d.projects_behind ?? projects.length);
    const count = $('#watch-count');
    count.textContent = fmtInt(n);
    count.dataset.value = String(n);
    $('#watch-count-label').textContent = t('watchProjects')(n);
    const ha = $('#watch-ha');
    // -0 (an empty sum) reads as 0.
    const total = Number(d.leased_ha) || 0;
    ha.textContent = fmtHa(total);
    ha.dataset.value = String(total);
    $('#watch-ha-label').textContent = t('watchHeld');
  }
  $('#watch-list').innerHTML = d && !projects.length ? `<li class="watch-empty">${esc(t('watchNone'))}</li>` : projects.map(watchItem).join('');
  const csv = $('#watch-csv');
  csv.hidden = !projects.length;
  if (projects.length) csv.href = `${api('projects/behind')}?${watchQuery({ f: 'csv' })}`; else csv.removeAttribute('href');
}

/** The bbox of a zone's geometry from /collections/zones/items/{code} (asked once per zone). */
function zoneBbox(code) {
  if (!zoneGeometry.has(code)) {
    const job = getJSON(`collections/zones/items/${encodeURIComponent(code)}`).then((f) => {
      const box = bboxOf(f.geometry);
      if (!box) throw new Error(`${code}: no geometry`);
      return box;
    });
    job.catch(() => zoneGeometry.delete(code)); // asked again next time
    zoneGeometry.set(code, job);
  }
  return zoneGeometry.get(code);
}

async function fitToWatchEntry(li) {
  const code = li.dataset.zone;
  watch.selected = li.dataset.project;
  for (const el of document.querySelectorAll('#watch-list li[data-project]')) {
    const on = el === li;
    el.classList.toggle('selected', on);
    el.querySelector('button')?.setAttribute('aria-current', String(on));
  }
  if (!code || !map) return;
  selectZone(code);
  let box;
  try {
    box = await zoneBbox(code);
  } catch (err) {
    // The zones index has the zone's bbox too: the map still goes there; the status line says what failed.
    reportError(err);
    box = zoneIndex.get(code)?.bbox;
  }
  if (!box || watch.selected !== li.dataset.project) return;
  const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
  map.fitBounds(toBounds(box), { padding: fitPadding(80), maxZoom: 15, duration: reduce ? 0 : 1000 });
}

function setupWatch() {
  if (!$('#watch-panel')) return;
  $('#watch-list').addEventListener('click', (ev) => {
    const li = ev.target.closest('li[data-project]');
    if (li) fitToWatchEntry(li);
  });
  renderWatch();
}

// ---------------------------------------------------------------------------------------------
// Search by zone name, with or without diacritics

function searchZones(query) {
  const q = fold(query);
  if (!q) return [];
  const scored = [];
  for (const z of zoneIndex.values()) {
    let score = null;
    if (z.folded === q) score = 0;
    else if (z.folded.startsWith(q)) score = 1;
    else if (z.folded.split(' ').some((w) => w.startsWith(q))) score = 2;
    else if (z.folded.includes(q)) score = 3;
    else if (z.foldedCode.includes(q)) score = 4;
    if (score != null) scored.push({ z, score });
  }
  scored.sort((a, b) => a.score - b.score || a.z.name.length - b.z.name.length || a.z.name.localeCompare(b.z.name, 'vi'));
  return scored.slice(0, 8).map((s) => s.z);
}

function setupSearch() {
  const input = $('#search-input');
  const list = $('#search-results');
  let results = [];
  let active = -1;

  const render = () => {
    if (!fold(input.value)) { list.hidden = true; input.setAttribute('aria-expanded', 'false'); return; }
    list.innerHTML = results.length
      ? results.map((z, i) => `<li role="option" id="sr-${i}" data-code="${esc(z.code)}" class="${i === active ? 'active' : ''}" aria-selected="${i === active}">
          <span class="sr-name">${esc(z.name)}</span><span class="sr-meta">${esc(provinceName(unitOn(z.province)))} · ${esc(z.code)}</span></li>`).join('')
      : `<li class="sr-empty">${esc(t('noMatch'))}</li>`;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (active >= 0) input.setAttribute('aria-activedescendant', `sr-${active}`); else input.removeAttribute('aria-activedescendant');
  };
  const choose = (z) => {
    if (!z) return;
    input.value = z.name;
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    flyToZone(z.code);
  };

  input.addEventListener('input', () => { results = searchZones(input.value); active = results.length ? 0 : -1; render(); });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!results.length) return;
      ev.preventDefault();
      active = (active + (ev.key === 'ArrowDown' ? 1 : results.length - 1)) % results.length;
      render();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      if (!results.length) results = searchZones(input.value);
      choose(results[Math.max(active, 0)]);
    } else if (ev.key === 'Escape') {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
    }
  });
  list.addEventListener('mousedown', (ev) => {
    const li = ev.target.closest('li[data-code]');
    if (!li) return;
    ev.preventDefault();
    choose(zoneIndex.get(li.dataset.code));
  });
  input.addEventListener('blur', () => setTimeout(() => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); }, 100));
  input.addEventListener('focus', () => { if (results.length) render(); });
  setupSearch.rerender = () => { if (!list.hidden) render(); };
}

// ---------------------------------------------------------------------------------------------
// Find available land: /available with the panel's filters, the page's province and date; results
// listed in the panel and drawn on the map (source and layers `available-results`, the chosen piece
// `available-selected`).

const AVAIL_PAGE_SIZE = 20;
// At most this many results are listed again from a shared URL's ?limit= (pages loaded with "Show more").
const AVAIL_MAX_SHOWN = 1000;
const SORTS = ['-area_ha', 'area_ha', 'distance_km'];
// The files the panel offers its results in (GET /available?…&f=): the service names them available_land.<ext>.
const DOWNLOADS = ['csv', 'gpkg', 'kml'];
const avail = {
  used: false, // a search has run: a new date or province runs it again
  open: false, // the panel is expanded (results and the near marker are drawn only then)
  token: 0,
  loading: false,
  features: [], // every page loaded so far
  matched: null,
  returned: 0,
  next: null, // absolute URL of the next page
  meta: null, // dropped_pieces, min_piece_ha of the last answer
  error: null,
  near: null, // [lon, lat]
  nearMarker: null,
  picking: false,
  selected: null, // piece id
  query: null, // URLSearchParams of the search shown, without limit and offset (for the downloads)
};

const availableVisibility = () => (avail.open ? 'visible' : 'none');
function availableResultsData() {
  return {
    type: 'FeatureCollection',
    features: avail.features.map((f) => ({ type: 'Feature', geometry: f.geometry, properties: { ...f.properties, id: f.id } })),
  };
}
const fmtKm = (v) => (v == null ? '—' : `${nf(2).format(v)}\u00a0km`);
const provinceLabel = (code) => (code ? provinceName(code) : t('allProvinces'));

/** The query for the panel's filters, or {error} when they cannot make sense. */
function availableQuery({ limit = AVAIL_PAGE_SIZE } = {}) {
  const q = new URLSearchParams();
  const num = (sel) => $(sel).value.trim();
  const min = num('#available-min-ha');
  const max = num('#available-max-ha');
  // Negative numbers are left to the service, which explains what it accepts.
  if (min !== '' && max !== '' && Number(min) >= 0 && Number(max) >= 0 && Number(min) > Number(max)) return { error: t('availMinGtMax') };
  if (min !== '') q.set('min_ha', min);
  if (max !== '') q.set('max_ha', max);
  if (state.province) q.set('province_code', state.province);
  if ($('#available-ready').checked) q.set('ready', 'true');
  if ($('#available-cleared').checked) q.set('cleared', 'true');
  if ($('#available-wwtp').checked) q.set('wwtp', 'true');
  if (avail.near) {
    q.set('near', avail.near.map((v) => v.toFixed(6)).join(','));
    const within = num('#available-within-km');
    if (within !== '') q.set('within_km', within);
  }
  q.set('at', state.at);
  const sort = $('#available-sort').value;
  q.set('sortby', sort === 'distance_km' && !avail.near ? '-area_ha' : sort);
  q.set('limit', String(limit));
  return { query: q };
}

/** The panel as URL parameters (see syncUrl): the filters as the fields hold them, avail=1 while open,
 *  run=1 once a search ran, limit= when more than a page is listed, piece= for the chosen piece. */
function availableUrlParams() {
  const p = [];
  if (!$('#available-panel')) return p;
  const val = (sel) => $(sel).value.trim();
  if (avail.open) p.push(['avail', '1']);
  if (val('#available-min-ha') !== '') p.push(['min_ha', val('#available-min-ha')]);
  if (val('#available-max-ha') !== '') p.push(['max_ha', val('#available-max-ha')]);
  for (const k of ['ready', 'cleared', 'wwtp']) if ($(`#available-${k}`).checked) p.push([k, 'true']);
  if (avail.near) {
    p.push(['near', avail.near.map((v) => v.toFixed(6)).join(',')]);
    if (val('#available-within-km') !== '') p.push(['within_km', val('#available-within-km')]);
  }
  const sort = $('#available-sort').value;
  if (sort !== SORTS[0]) p.push(['sortby', sort]);
  if (avail.used) p.push(['run', '1']);
  if (avail.used && avail.features.length > AVAIL_PAGE_SIZE) p.push(['limit', String(avail.features.length)]);
  if (avail.selected) p.push(['piece', avail.selected]);
  return p;
}

/**
 * The panel's state in a URL's parameters, each checked: a value that is not what the panel would
 * write (a negative or non-numeric area, a point off the globe, an unknown sort, …) is left out, so a
 * mangled link still opens the page, with the field empty or at its default.
 */
function availableFromUrl(p) {
  const yes = (k) => ['true', '1'].includes(String(p.get(k) ?? '').toLowerCase());
  const amount = (k) => {
    const v = (p.get(k) ?? '').trim();
    const n = Number(v);
    return v !== '' && Number.isFinite(n) && n >= 0 ? String(n) : null;
  };
  let near = null;
  const parts = (p.get('near') ?? '').split(',');
  if (parts.length === 2 && parts.every((v) => v.trim() !== '')) {
    const [lon, lat] = parts.map(Number);
    if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) near = [lon, lat];
  }
  const sortby = SORTS.includes(p.get('sortby')) && (p.get('sortby') !== 'distance_km' || near) ? p.get('sortby') : null;
  const limit = /^\d{1,6}$/.test(p.get('limit') ?? '') ? Math.min(Number(p.get('limit')), AVAIL_MAX_SHOWN) : null;
  const piece = /^[\w.:-]{1,120}$/.test(p.get('piece') ?? '') ? p.get('piece') : null;
  return {
    open: yes('avail'),
    run: yes('run'),
    minHa: amount('min_ha'),
    maxHa: amount('max_ha'),
    ready: yes('ready'),
    cleared: yes('cleared'),
    wwtp: yes('wwtp'),
    near,
    withinKm: near ? amount('within_km') : null,
    sortby,
    limit: limit > AVAIL_PAGE_SIZE ? limit : null,
    piece,
  };
}

/** GET an /available page; a refusal becomes an Error carrying the problem's `detail`. */
async function fetchAvailable(url) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' } });
  } catch {
    throw new Error(t('loadError'));
  }
  if (!res.ok) {
    let detail = '';
    try { detail = (await res.json()).detail || ''; } catch { /* not problem+json */ }
    throw new Error(detail || `${t('loadError')} (HTTP ${res.status})`);
  }
  return res.json();
}

/** The next page's URL, on this page's origin (the service may name itself differently behind a proxy). */
function nextLink(fc) {
  const href = (fc.links || []).find((l) => l.rel === 'next')?.href;
  if (!href) return null;
  try {
    const q = new URL(href, API_ROOT).searchParams;
    // After a longer first page (a shared URL's ?limit=), "Show more" goes on a page at a time.
    if (q.has('limit')) q.set('limit', String(AVAIL_PAGE_SIZE));
    return `${api('available')}?${q}`;
  } catch {
    return null;
  }
}

function setAvailableLoading(on) {
  avail.loading = on;
  $('#available-panel').classList.toggle('loading', on);
  $('#available-search').disabled = on;
  $('#available-more').disabled = on;
}

async function runAvailable({ fit = false, limit = AVAIL_PAGE_SIZE } = {}) {
  const token = ++avail.token;
  avail.used = true;
  const { query, error } = availableQuery({ limit });
  if (error) {
    Object.assign(avail, { error, features: [], matched: null, returned: 0, next: null, meta: null, query: null });
    setAvailableLoading(false);
    updateAvailableMap();
    renderAvailable();
    syncUrl();
    return;
  }
  setAvailableLoading(true);
  try {
    const fc = await fetchAvailable(`${api('available')}?${query}`);
    if (token !== avail.token) return;
    Object.assign(avail, {
      error: null,
      features: fc.features || [],
      matched: fc.numberMatched ?? null,
      returned: (fc.features || []).length,
      next: nextLink(fc),
      meta: { dropped: fc.dropped_pieces || 0, minPiece: fc.min_piece_ha },
      query: downloadQuery(query),
    });
    if (!avail.features.some((f) => f.id === avail.selected)) avail.selected = null;
    updateAvailableMap();
    renderAvailable();
    syncUrl();
    if (fit && avail.features.length) {
      const box = unionBbox(avail.features.map((f) => bboxOf(f.geometry)).filter(Boolean));
      if (box) map.fitBounds(toBounds(box), { padding: fitPadding(60), maxZoom: 15 });
    }
  } catch (err) {
    if (token !== avail.token) return;
    Object.assign(avail, { error: err.message, features: [], matched: null, returned: 0, next: null, meta: null, selected: null, query: null });
    updateAvailableMap();
    renderAvailable();
    syncUrl();
  } finally {
    if (token === avail.token) setAvailableLoading(false);
  }
}

async function loadMoreAvailable() {
  if (!avail.next || avail.loading) return;
  const token = avail.token;
  setAvailableLoading(true);
  try {
    const fc = await fetchAvailable(avail.next);
    if (token !== avail.token) return;
    const seen = new Set(avail.features.map((f) => f.id));
    avail.features.push(...(fc.features || []).filter((f) => !seen.has(f.id)));
    avail.matched = fc.numberMatched ?? avail.matched;
    avail.next = nextLink(fc);
    updateAvailableMap();
    renderAvailable();
    syncUrl();
  } catch (err) {
    if (token !== avail.token) return;
    avail.error = err.message;
    renderAvailable();
  } finally {
    if (token === avail.token) setAvailableLoading(false);
  }
}

function updateAvailableMap() {
  map?.getSource('available-results')?.setData(availableResultsData());
  const filter = ['==', ['get', 'id'], avail.selected || ''];
  for (const id of ['available-selected', 'available-selected-fill']) if (map?.getLayer(id)) map.setFilter(id, filter);
}

function selectPiece(id, { fly = false, scroll = false } = {}) {
  avail.selected = id;
  updateAvailableMap();
  syncUrl();
  for (const li of document.querySelectorAll('#available-results li[data-id]')) {
    const on = li.dataset.id === id;
    li.classList.toggle('selected', on);
    li.querySelector('button')?.setAttribute('aria-current', on ? 'true' : 'false');
    if (on && scroll) li.scrollIntoView({ block: 'nearest' });
  }
  const f = avail.features.find((x) => x.id === id);
  if (fly && f) {
    const box = bboxOf(f.geometry);
    const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (box) map.fitBounds(toBounds(box), { padding: fitPadding(80), maxZoom: 17, duration: reduce ? 0 : 1000 });
  }
}

function resultItem(f) {
  const p = f.properties || {};
  const badges = [
    p.ready ? `<span class="badge badge-ready">${esc(t('badgeReady'))}</span>` : `<span class="badge badge-muted">${esc(t('badgeNotReady'))}</span>`,
    p.cleared ? `<span class="badge" title="${esc(t('badgeClearedTitle'))}">${esc(t('badgeCleared'))}</span>` : '',
    p.wwtp_operating
      ? `<span class="badge" title="${esc(t('badgeWwtpTitle'))}${p.wwtp_capacity_m3d != null ? ` · ${esc(fmtInt(p.wwtp_capacity_m3d))} ${esc(t('perDay'))}` : ''}">${esc(t('badgeWwtp'))}</span>`
      : '',
    recoveredText(p) ? `<span class="badge badge-recovered" title="${esc(recoveredText(p))}">${esc(t('badgeRecovered'))}</span>` : '',
  ].join('');
  const plots = String(p.plot_codes || '').split(',').filter(Boolean).length;
  const sub = [f.id, plots ? t('availPlots')(plots) : ''].filter(Boolean).join(' · ');
  const dist = p.distance_km != null ? `<span class="ai-dist">${esc(fmtKm(p.distance_km))}</span>` : '';
  return `<li data-id="${esc(f.id)}"${f.id === avail.selected ? ' class="selected"' : ''}>
    <button type="button" class="avail-item" aria-current="${f.id === avail.selected}">
      <span class="ai-name">${esc(p.zone_name || p.zone_code || f.id)}</span>
      <span class="ai-area">${esc(fmtHa(p.area_ha))}</span>
      <span class="ai-sub">${esc(sub)}</span>
      <span class="ai-meta">${badges}${dist}</span>
    </button>
  </li>`;
}

function renderAvailable() {
  if (!$('#available-panel')) return;
  const err = $('#available-error');
  err.textContent = avail.error || '';
  err.hidden = !avail.error;
  const summary = $('#available-summary');
  summary.hidden = avail.matched == null;
  if (avail.matched != null) {
    const count = $('#available-count');
    count.textContent = fmtInt(avail.matched);
    count.dataset.value = String(avail.matched);
    $('#available-count-label').textContent = t('availMatched')(avail.matched);
    $('#available-shown').textContent = avail.matched > avail.features.length ? t('availShown')(fmtInt(avail.features.length)) : '';
  }
  const list = $('#available-results');
  list.innerHTML = avail.matched === 0 ? `<li class="avail-empty">${esc(t('availNone'))}</li>` : avail.features.map(resultItem).join('');
  const dropped = $('#available-dropped');
  dropped.hidden = !(avail.meta?.dropped > 0 && avail.matched > 0);
  dropped.textContent = dropped.hidden ? '' : t('availDropped')(fmtInt(avail.meta.dropped), fmtHa(avail.meta.minPiece));
  $('#available-more').hidden = !avail.next;
  renderDownloads();
}

/** The query of a search as a download: every match (no limit, no offset), in the same order. */
function downloadQuery(query) {
  const q = new URLSearchParams(query);
  q.delete('limit');
  q.delete('offset');
  return q;
}

/** The download links: the search shown as CSV, GeoPackage and KML files (only when it found something). */
function renderDownloads() {
  const box = $('#available-downloads');
  if (!box) return;
  const on = !!avail.query && avail.matched > 0;
  box.hidden = !on;
  for (const f of DOWNLOADS) {
    const a = $(`#available-dl-${f}`);
    if (!on) { a.removeAttribute('href'); continue; }
    const q = new URLSearchParams(avail.query);
    q.set('f', f);
    a.href = `${api('available')}?${q}`;
    a.download = `available_land.${f}`;
  }
}

let copiedTimer = 0;
/** "Copy link": the page's address (syncUrl keeps the panel in it) to the clipboard; where the browser
 *  gives no clipboard (or refuses), the address shown in a read-only field, selected for Ctrl+C. */
async function copyLink() {
  syncUrl();
  const url = location.href;
  const field = $('#available-link');
  const note = $('#available-copied');
  const say = (key) => {
    note.dataset.i18nKey = key;
    note.textContent = t(key);
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => { note.textContent = ''; delete note.dataset.i18nKey; }, 6000);
  };
  try {
    if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
    await navigator.clipboard.writeText(url);
    field.hidden = true;
    say('shareCopied');
  } catch {
    field.hidden = false;
    field.value = url;
    field.focus();
    field.select();
    let copied = false;
    try { copied = document.execCommand('copy'); } catch { /* not offered: the user copies */ }
    say(copied ? 'shareCopied' : 'shareManual');
  }
}

/** What does not depend on the results: scope line, near point, pick button, sort choices. */
function renderAvailableChrome() {
  if (!$('#available-panel')) return;
  $('#available-scope').textContent = `${t('province')}: ${provinceLabel(state.province)} · ${t('asOfShort')} ${fmtDate(state.at)}`;
  const near = $('#available-near');
  near.textContent = avail.near ? `${avail.near[1].toFixed(3)}°\u00a0${t('north')}, ${avail.near[0].toFixed(3)}°\u00a0${t('east')}` : t('availNoPoint');
  near.title = avail.near ? avail.near.map((v) => v.toFixed(6)).join(', ') + ' (lon, lat)' : '';
  near.classList.toggle('empty', !avail.near);
  const clear = $('#available-near-clear');
  clear.hidden = !avail.near;
  clear.title = t('availClearNear');
  clear.setAttribute('aria-label', t('availClearNear'));
  const pick = $('#available-pick');
  pick.textContent = avail.picking ? t('availPicking') : t('availPick');
  pick.title = t('availPickTitle');
  pick.setAttribute('aria-pressed', String(avail.picking));
  pick.classList.toggle('active', avail.picking);
  $('#available-within-km').disabled = !avail.near;
  $('#available-copy').title = t('shareTitle');
  const sort = $('#available-sort');
  sort.querySelector('option[value="distance_km"]').disabled = !avail.near;
  if (!avail.near && sort.value === 'distance_km') sort.value = '-area_ha';
}

function setPicking(on) {
  avail.picking = on;
  if (map) map.getCanvas().style.cursor = on ? 'crosshair' : '';
  $('#map-wrap').classList.toggle('picking', on);
  renderAvailableChrome();
}

function setNear(lonLat, { run = false, search = true } = {}) {
  avail.near = lonLat;
  avail.picking = false;
  if (map) map.getCanvas().style.cursor = '';
  $('#map-wrap').classList.remove('picking');
  if (lonLat) {
    if (!avail.nearMarker) {
      const el = document.createElement('div');
      el.className = 'near-marker';
      avail.nearMarker = new maplibregl.Marker({ element: el });
    }
    avail.nearMarker.setLngLat(lonLat).addTo(map);
    avail.nearMarker.getElement().hidden = !avail.open;
    $('#available-sort').value = 'distance_km';
  } else {
    avail.nearMarker?.remove();
  }
  renderAvailableChrome();
  syncUrl();
  if (search && (run || avail.used)) runAvailable();
}

/** The results on the map: shown while the panel is open, with the search's pieces and the chosen one. */
function setAvailableLayers() {
  for (const id of ['available-results', 'available-results-outline', 'available-selected-fill', 'available-selected']) {
    if (map?.getLayer(id)) map.setLayoutProperty(id, 'visibility', availableVisibility());
  }
  updateAvailableMap();
}

function setAvailableOpen(open) {
  avail.open = open;
  $('#available-panel').classList.toggle('collapsed', !open);
  $('#available-body').hidden = !open;
  $('#available-toggle').setAttribute('aria-expanded', String(open));
  setAvailableLayers();
  if (avail.nearMarker) avail.nearMarker.getElement().hidden = !open;
  if (!open && avail.picking) setPicking(false);
  syncUrl();
}

function provinceChangedForAvailable() {
  renderAvailableChrome();
  if (avail.used) runAvailable();
}

function setupAvailable() {
  $('#available-toggle').addEventListener('click', () => setAvailableOpen(!avail.open));
  $('#available-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (avail.picking) setPicking(false);
    runAvailable({ fit: true });
  });
  $('#available-pick').addEventListener('click', () => setPicking(!avail.picking));
  $('#available-near-clear').addEventListener('click', () => setNear(null));
  $('#available-sort').addEventListener('change', () => { if (avail.used) runAvailable(); });
  $('#available-more').addEventListener('click', loadMoreAvailable);
  $('#available-results').addEventListener('click', (ev) => {
    const li = ev.target.closest('li[data-id]');
    if (li) selectPiece(li.dataset.id, { fly: true });
  });
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && avail.picking) setPicking(false); });
  // Every change of a filter goes to the URL at once (the search itself runs on "Search").
  for (const type of ['input', 'change']) $('#available-form').addEventListener(type, () => syncUrl());
  $('#available-copy').addEventListener('click', copyLink);
  $('#available-link').addEventListener('focus', (ev) => ev.target.select());
  renderAvailableChrome();
  renderAvailable();
  restoreAvailable(availableFromUrl(params));
}

/** A shared URL's panel: its fields filled in, opened, and the same search run (the chosen piece shown). */
function restoreAvailable(s) {
  if (s.minHa != null) $('#available-min-ha').value = s.minHa;
  if (s.maxHa != null) $('#available-max-ha').value = s.maxHa;
  $('#available-ready').checked = s.ready;
  $('#available-cleared').checked = s.cleared;
  $('#available-wwtp').checked = s.wwtp;
  if (s.open) setAvailableOpen(true);
  if (s.near) {
    setNear(s.near, { search: false });
    if (s.withinKm != null) $('#available-within-km').value = s.withinKm;
  }
  $('#available-sort').value = s.sortby || SORTS[0];
  renderAvailableChrome();
  if (!s.run) return;
  avail.selected = s.piece;
  // The map goes to the results (or the chosen piece) only when they are drawn, i.e. the panel is open.
  runAvailable({ fit: s.open && !s.piece, limit: s.limit || AVAIL_PAGE_SIZE }).then(() => {
    if (avail.selected) selectPiece(avail.selected, { fly: s.open, scroll: s.open });
  });
}

// ---------------------------------------------------------------------------------------------
// Language

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t('pageTitle');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll('[data-i18n-title]')) { el.title = t(el.dataset.i18nTitle); el.setAttribute('aria-label', el.title); }
  $('#map').setAttribute('aria-label', t('mapLabel'));
  renderDateField();
  const sw = $('#lang-switch');
  sw.dataset.lang = state.lang;
  sw.title = t('langTitle');
  sw.setAttribute('aria-label', t('langTitle'));
  for (const s of sw.querySelectorAll('[data-lang]')) s.classList.toggle('active', s.dataset.lang === state.lang);
  renderLayers();
  if (provinces.length) renderProvinceSelect();
  renderProvince();
  renderPopup();
  setupSearch.rerender?.();
  renderAvailableChrome();
  renderAvailable();
  renderWatch();
  const copied = $('#available-copied');
  if (copied?.dataset.i18nKey) copied.textContent = t(copied.dataset.i18nKey);
  renderPrintSheet();
}

// ---------------------------------------------------------------------------------------------
// Date: #date-text shows and takes the date as the page's language writes it (dd/mm/yyyy in
// Vietnamese; a native date input would follow the browser's locale instead, mm/dd/yyyy in an
// English-language Chromium); the calendar button opens the native picker of #date-input, which
// holds the date as yyyy-mm-dd.

function renderDateField({ keepError = false } = {}) {
  const text = $('#date-text');
  const input = $('#date-input');
  if (!text || !input) return;
  input.value = state.at;
  if (!keepError) {
    text.value = fmtDateField(state.at);
    showDateError(false);
  }
}

function showDateError(on) {
  const text = $('#date-text');
  const err = $('#date-error');
  text.classList.toggle('invalid', on);
  if (on) text.setAttribute('aria-invalid', 'true'); else text.removeAttribute('aria-invalid');
  err.hidden = !on;
  err.textContent = on ? t('dateInvalid') : '';
}

function setupDateControl() {
  const input = $('#date-input');
  const text = $('#date-text');
  const commit = () => {
    const iso = parseDateField(text.value);
    if (!iso || iso < input.min || iso > input.max) { showDateError(true); return; }
    setDate(iso);
    renderDateField();
  };
  text.addEventListener('change', commit);
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); commit(); } else if (ev.key === 'Escape') renderDateField();
  });
  input.addEventListener('change', () => {
    if (isDate(input.value)) setDate(input.value);
    renderDateField();
  });
  $('#date-pick').addEventListener('click', () => {
    try {
      input.showPicker();
    } catch {
      input.focus();
      input.click();
    }
  });
  renderDateField();
}

function setDate(at) {
  if (!isDate(at) || at === state.at) return;
  state.at = at;
  renderDateField();
  syncUrl();
  for (const c of ['zones', 'plots', 'clearance_parcels', 'available_land']) {
    map.getSource(c)?.setTiles([withAt(tileTemplates[c], at)]);
  }
  refreshPopupForDate();
  // The province list, the selected province, its figures and the available-land search follow.
  provincesForDate(at).catch(reportError);
}

// ---------------------------------------------------------------------------------------------
// Print: a title, the date of the figures, the map and its legend on one landscape page; the
// controls and the side panel stay off the paper. The map is drawn with preserveDrawingBuffer, so
// that the browser can print its canvas (otherwise WebGL hands it a blank one); on `beforeprint` the
// map takes the size it has on paper (html.printing, see style.css), shows what the screen showed and
// is drawn at once; `afterprint` puts it back.

let pageConfig = {};
let printView = null;

function renderPrintSheet() {
  const title = $('#print-title');
  if (!title) return;
  title.textContent = `${t('printTitle')} — ${state.province ? provinceName(state.province) : t('allProvinces')}`;
  const d = provinceData;
  const meta = [`${t('printFigures')} ${fmtDateField(state.at)}`];
  if (d?.occupancy_pct != null) meta.push(`${t('occupancy')} ${fmtPct(d.occupancy_pct)} (${t('leasedOf')(fmtHa(d.leased_ha), fmtHa(d.leasable_ha))})`);
  $('#print-meta').textContent = meta.join(' · ');
  const zoom = map ? map.getZoom() : 0;
  const item = legendItem;
  const groups = GROUPS.filter((g) => state.visible[g.key] && zoom >= g.minzoom).map((g) => `<section class="print-layer" data-key="${g.key}">
      <h3>${esc(t('layer_' + g.key))}</h3><ul class="legend">${legendItems(g.key).map(item).join('')}</ul></section>`);
  if (avail.open && avail.features.length) {
    groups.push(`<section class="print-layer" data-key="available-results"><h3>${esc(t('printResults'))}</h3>
      <ul class="legend">${item({ color: RESULT_COLORS.fill, label: `${fmtInt(avail.matched ?? avail.features.length)} ${t('availMatched')(avail.matched)}` })}</ul></section>`);
  }
  $('#print-legend').innerHTML = `<h2>${esc(t('printLegend'))}</h2>${groups.join('')}
    <p class="note">${esc(t('dataNote'))}</p>
    ${pageConfig.demo === true ? `<p class="note">${esc(t('synthetic'))}</p>` : ''}
    <p class="note print-stamp">${esc(t('printedOn'))} ${esc(fmtDateField(todayInVietnam()))} · landbank</p>`;
}

function beforePrint() {
  if (!map || printView) return;
  printView = { center: map.getCenter(), zoom: map.getZoom(), bounds: map.getBounds() };
  renderPrintSheet();
  document.documentElement.classList.add('printing');
  fitPopupSheet();
  map.resize();
  map.fitBounds(printView.bounds, { animate: false, padding: 0 });
  map.redraw();
  updatePlotLabels();
  renderPrintSheet(); // the legend follows the zoom on paper
}

function afterPrint() {
  if (!printView) return;
  const view = printView;
  printView = null;
  document.documentElement.classList.remove('printing');
  map.resize();
  map.jumpTo({ center: view.center, zoom: view.zoom });
  fitPopupSheet();
  updatePlotLabels();
}

// ---------------------------------------------------------------------------------------------
// Basemap: the raster tile URL of /maps/config.json (`landbank serve --basemap`). Leaflet-style
// templates work too: {s} is spread over the a, b and c hosts, {r} is "@2x" on a high-density screen,
// {-y} counts rows from the south (TMS).

function basemapSource(url, given) {
  if (typeof url !== 'string' || !/\{z\}/.test(url) || !/\{x\}/.test(url) || !/\{-?y\}/.test(url)) return null;
  let u = url.trim().replace(/\{r\}/g, (window.devicePixelRatio || 1) > 1 ? '@2x' : '');
  const tms = u.includes('{-y}');
  u = u.replace(/\{-y\}/g, '{y}');
  const tiles = u.includes('{s}') ? ['a', 'b', 'c'].map((sub) => u.replace(/\{s\}/g, sub)) : [u];
  let host = '';
  try { host = new URL(u.replace(/\{s\}\./g, '').replace(/[{}]/g, ''), location.href).host; } catch { /* left out of the attribution */ }
  // What the tile server's terms ask for (--basemap-attribution), else a guess from its host.
  const attribution = typeof given === 'string' && given.trim()
    ? given.trim()
    : (/(^|\.)openstreetmap\.(org|fr)$/.test(host) ? '© OpenStreetMap contributors' : host);
  return { type: 'raster', tiles, tileSize: 256, maxzoom: 19, scheme: tms ? 'tms' : 'xyz', attribution: `${esc(t('basemap'))}: ${esc(attribution)}` };
}

// ---------------------------------------------------------------------------------------------
// Start

async function loadConfig() {
  try {
    const res = await fetch(new URL('config.json', import.meta.url));
    if (!res.ok) return { basemap: null };
    return await res.json();
  } catch {
    return { basemap: null };
  }
}

async function main() {
  document.body.dataset.ready = '0';
  applyLanguage();

  const [config, zonesFc, unitsFc, national] = await Promise.all([
    loadConfig(),
    getJSON('collections/zones/items?limit=10000').catch((err) => { reportError(err); return { features: [] }; }),
    getJSON('collections/provinces/items?limit=200').catch((err) => { reportError(err); return { features: [] }; }),
    loadZoneOccupancy().then((d) => d || { provinces: [] }),
    ...['zones', 'plots', 'clearance_parcels', 'available_land'].map(loadTileJson),
  ]);
  indexZones(zonesFc);
  indexUnits(unitsFc);
  setProvinces(national.provinces);
  // A province from the URL (or the default) that does not exist on the date gives way to the unit holding it.
  const followed = provinces.length ? await followProvince(state.province, state.at) : { code: '' };
  state.province = followed.code;
  renderProvinceSelect();

  // The "synthetic geometry" note belongs to the demo dataset only.
  pageConfig = config || {};
  $('#synthetic-note').hidden = config?.demo !== true;
  const basemap = basemapSource(config?.basemap, config?.basemap_attribution);
  if (config?.basemap && !basemap) reportError(new Error(`basemap ${config.basemap}: not a {z}/{x}/{y} tile URL`));
  const start = provinceBbox(state.province || null);
  map = new maplibregl.Map({
    container: 'map',
    style: buildStyle(basemap),
    bounds: start ? toBounds(start) : FALLBACK_BOUNDS,
    fitBoundsOptions: { padding: fitPadding(), maxZoom: 13 },
    maxZoom: 18,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    renderWorldCopies: false,
    // The browser prints the canvas from its drawing buffer: kept, the map prints (see beforePrint).
    canvasContextAttributes: { preserveDrawingBuffer: true },
    attributionControl: { compact: true, customAttribution: 'landbank' },
  });
  window.landbankMap = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');

  map.on('error', (ev) => reportError(ev.error || ev));
  // The hatch of land taken back, made here (the page loads no sprite): added when a layer first needs it.
  const addHatch = () => { if (!map.hasImage(RECOVERED_PATTERN)) { const h = hatchImage(); map.addImage(RECOVERED_PATTERN, h.image, { pixelRatio: h.pixelRatio }); } };
  map.on('styleimagemissing', (ev) => { if (ev.id === RECOVERED_PATTERN) addHatch(); });
  map.once('load', () => {
    addHatch();
    addLabels(!basemap);
    updateZoomHints();
    // A search restored from the URL may have answered before the style was ready to take it.
    setAvailableLayers();
    // Ready once the first zone tiles have been drawn (a slow or broken basemap does not hold it back).
    const ready = () => {
      if (document.body.dataset.ready === '1') return;
      document.body.dataset.ready = '1';
      map.off('render', onRender);
    };
    const onRender = () => { if (map.isSourceLoaded('zones')) ready(); };
    map.on('render', onRender);
    map.once('idle', ready);
  });
  map.on('move', scheduleLabels);
  map.on('moveend', updatePlotLabels);
  map.on('idle', updatePlotLabels);
  map.on('resize', () => { fitPopupSheet(); layoutLabels(); });
  window.addEventListener('beforeprint', beforePrint);
  window.addEventListener('afterprint', afterPrint);
  // Browsers that print without those events still switch the print media query.
  matchMedia('print').addEventListener('change', (ev) => (ev.matches ? beforePrint() : afterPrint()));
  map.on('zoomend', updateZoomHints);
  map.on('click', (ev) => {
    if (avail.picking) { setNear([ev.lngLat.lng, ev.lngLat.lat], { run: true }); return; }
    const hit = featuresAt(ev.point);
    openPopup(ev.lngLat, hit);
    const result = map.getLayoutProperty('available-results', 'visibility') !== 'none'
      && map.queryRenderedFeatures(ev.point, { layers: ['available-results'] })[0];
    if (result) selectPiece(result.properties.id, { scroll: true });
  });
  for (const id of CLICKABLE) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = avail.picking ? 'crosshair' : 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = avail.picking ? 'crosshair' : ''; });
  }

  setupDateControl();
  $('#province-select').addEventListener('change', (ev) => {
    selectProvince(ev.target.value);
    const b = provinceBbox(state.province || null);
    if (b) map.fitBounds(toBounds(b), { padding: fitPadding(), maxZoom: 13 });
  });
  $('#zone-chart').addEventListener('click', (ev) => {
    const row = ev.target.closest('.bar-row');
    if (row) flyToZone(row.dataset.code, { open: true });
  });
  $('#layers-toggle').addEventListener('click', () => setLayersCollapsed(!$('#layers-card').classList.contains('collapsed')));
  if (phoneQuery.matches) setLayersCollapsed(true);
  phoneQuery.addEventListener('change', () => { fitPopupSheet(); layoutLabels(); });
  $('#lang-switch').addEventListener('click', () => {
    state.lang = state.lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('landbank.lang', state.lang);
    syncUrl();
    applyLanguage();
  });
  setupSearch();
  setupAvailable();
  setupWatch();
  syncUrl();
  loadWatch();
  await loadProvince(followed.data);
}

main().catch(reportError);
