// SPDX-License-Identifier: MIT
// The web view of diskless (docs/web.md). Plain JavaScript, no library, nothing fetched
// from elsewhere. Every figure comes from /api/<verb>, bootsvc's control verbs called
// with this user's role; the grid is kept current by /api/events (server-sent events of
// the history), never by polling.
'use strict';

const PHASES = ['new', 'off', 'registered', 'discovered', 'powering-on', 'pxe', 'loading', 'imaging', 'up', 'failed'];
// Nodes whose row is fetched again after an action event, at most this often (ms): a
// storm of events costs one node.list of the nodes it touched, not one per event.
const REFRESH_MS = 400;

const state = {
  me: null,          // {user, role, csrf, via}
  nodes: new Map(),  // name -> node object of node.list
  cells: new Map(),  // name -> its button
  es: null,
  seq: 0,
  stale: new Set(),
  refreshTimer: 0,
  page: '',
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    // Through the CSSOM: the page's Content-Security-Policy forbids style attributes.
    else if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

// --- the API --------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

async function api(verb, args, post) {
  let res;
  if (post) {
    res = await fetch('/api/' + verb, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.me ? state.me.csrf : '' },
      body: JSON.stringify(args || {}),
    });
  } else {
    const q = new URLSearchParams(args || {}).toString();
    res = await fetch('/api/' + verb + (q ? '?' + q : ''), { credentials: 'same-origin' });
  }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON: the status says it */ }
  if (!res.ok || !body || !body.ok)
    throw new ApiError(res.status, body && body.error ? body.error.message : res.statusText);
  return body.result;
}

const canAct = (needed) => {
  const order = ['read-only', 'scheduler', 'admin'];
  return state.me && order.indexOf(state.me.role) >= order.indexOf(needed);
};

// --- login ----------------------------------------------------------------------------

async function start() {
  try {
    state.me = await api('whoami');
  } catch (e) {
    if (e.status === 401) return showLogin();
    $('who').textContent = 'bootsvc does not answer: ' + e.message;
    return;
  }
  $('login').hidden = true;
  $('nav').hidden = false;
  $('who').textContent = `${state.me.user} (${state.me.role}, by ${state.me.via})`;
  $('logout').hidden = state.me.via !== 'password';
  connectEvents();
  route();
}

function showLogin() {
  $('login').hidden = false;
  for (const id of ['page-grid', 'page-node', 'page-images', 'page-hosts']) $(id).hidden = true;
  $('login-user').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  const body = new URLSearchParams({ user: $('login-user').value, password: $('login-password').value });
  const res = await fetch('/login', { method: 'POST', credentials: 'same-origin', body });
  $('login-password').value = '';
  if (!res.ok) {
    let msg = res.statusText;
    try { msg = (await res.json()).error.message; } catch (e) { /* keep statusText */ }
    $('login-error').textContent = msg;
    return;
  }
  start();
});

$('logout').addEventListener('click', async () => {
  await fetch('/logout', { method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': state.me ? state.me.csrf : '' } });
  location.hash = '';
  location.reload();
});

// --- the event stream -----------------------------------------------------------------

function connectEvents() {
  if (state.es) return;
  const es = new EventSource('/api/events');
  state.es = es;
  es.addEventListener('hello', (m) => {
    state.seq = JSON.parse(m.data).seq;
    $('live').textContent = 'live';
    $('live').classList.add('on');
    // The list is read after the stream is open: no event falls between the two.
    loadNodes();
  });
  es.onmessage = (m) => onEvent(JSON.parse(m.data));
  es.onerror = () => {
    $('live').textContent = 'reconnecting';
    $('live').classList.remove('on');
  };
}

function onEvent(e) {
  state.seq = Math.max(state.seq, e.seq);
  const n = state.nodes.get(e.node);
  if (n && e.kind === 'phase') {
    n.phase = e.phase;
    n.reason = e.reason;
    n.phase_at = e.at;
    updateCell(n);
    renderCounts();
  }
  // Power, hold, health and image changes are actions: read the node again (batched).
  if (e.kind !== 'phase' || !n) {
    state.stale.add(e.node);
    if (!state.refreshTimer) state.refreshTimer = setTimeout(refreshStale, REFRESH_MS);
  }
  if (state.page === 'node' && currentNode() === e.node) showNode(e.node, true);
}

async function refreshStale() {
  state.refreshTimer = 0;
  const names = [...state.stale];
  state.stale.clear();
  if (!names.length) return;
  try {
    const r = await api('node.list', { names: names.join(',') });
    let added = false;
    for (const n of r.nodes) {
      if (!state.nodes.has(n.name)) added = true;
      state.nodes.set(n.name, n);
      if (!added) updateCell(n);
    }
    if (added) renderGrid(); else { renderCounts(); applyFilter(); }
  } catch (e) { /* the next event retries */ }
}

// --- the grid -------------------------------------------------------------------------

async function loadNodes() {
  const r = await api('node.list');
  state.nodes = new Map(r.nodes.map((n) => [n.name, n]));
  renderGrid();
}

// The rack (or group) of a node: its name without the last run of digits, so r07n012
// is in r07n and n01 in n; racks sort by name, numbers within them numerically.
function rackOf(name) {
  const m = /^(.*?)(\d+)$/.exec(name);
  return m ? m[1] || '#' : name;
}
const natural = new Intl.Collator(undefined, { numeric: true }).compare;

function healthOf(n) { return n.health || 'ok'; }
function powerOf(n) { return n.power || 'unknown'; }

function describe(n) {
  const img = n.booted_image ? `${n.image || '-'} (booted ${n.booted_image.slice(0, 12)})` : (n.image || 'no image');
  return `${n.name}: ${n.phase}, power ${powerOf(n)}, health ${healthOf(n)}` +
    `${n.hold ? ', held' : ''}${n.drained ? ', drained' : ''}, image ${img}`;
}

function updateCell(n) {
  const b = state.cells.get(n.name);
  if (!b) return;
  b.dataset.phase = n.phase;
  b.dataset.power = powerOf(n);
  b.dataset.health = healthOf(n);
  b.dataset.hold = n.hold ? '1' : '0';
  b.dataset.image = n.image || '';
  const d = describe(n);
  b.title = d;
  b.setAttribute('aria-label', d);
  b.classList.toggle('dim', !matches(n));
}

function renderGrid() {
  const grid = $('grid');
  const racks = new Map();
  for (const name of [...state.nodes.keys()].sort(natural)) {
    const r = rackOf(name);
    if (!racks.has(r)) racks.set(r, []);
    racks.get(r).push(name);
  }
  const frag = document.createDocumentFragment();
  state.cells = new Map();
  let first = true;
  for (const [rack, names] of racks) {
    const cells = el('div', { class: 'cells', role: 'row' });
    for (const name of names) {
      const b = el('button', { type: 'button', class: 'cell', role: 'gridcell',
        tabindex: first ? '0' : '-1', 'data-node': name });
      first = false;
      state.cells.set(name, b);
      cells.append(b);
      updateCell(state.nodes.get(name));
    }
    frag.append(el('div', { class: 'rack', role: 'rowgroup', 'aria-label': `rack ${rack}, ${names.length} nodes` },
      el('h3', { text: `${rack} (${names.length})` }), cells));
  }
  grid.replaceChildren(frag);
  renderCounts();
}

function renderCounts() {
  const c = new Map();
  let held = 0, off = 0, risky = 0, doomed = 0;
  for (const n of state.nodes.values()) {
    c.set(n.phase, (c.get(n.phase) || 0) + 1);
    if (n.hold) held++;
    if (powerOf(n) === 'off') off++;
    if (healthOf(n) === 'risky') risky++;
    if (healthOf(n) === 'doomed') doomed++;
  }
  const items = [el('li', {}, el('b', { text: String(state.nodes.size) }), ' nodes')];
  for (const p of [...PHASES, ...[...c.keys()].filter((k) => !PHASES.includes(k))])
    if (c.get(p)) items.push(el('li', { 'data-count': p }, el('span', { class: 'sw', style: `background: var(--${PHASES.includes(p) ? p : 'unknown'})` }),
      el('b', { text: String(c.get(p)) }), ' ' + p));
  items.push(el('li', {}, el('b', { text: String(off) }), ' powered off'));
  items.push(el('li', {}, el('b', { text: String(held) }), ' held'));
  items.push(el('li', {}, el('b', { text: String(risky) }), ' risky'));
  items.push(el('li', {}, el('b', { text: String(doomed) }), ' doomed'));
  $('counts').replaceChildren(...items);
}

function renderLegend() {
  const items = PHASES.map((p) => el('li', {}, el('span', { class: 'sw', style: `background: var(--${p})` }), p));
  items.push(el('li', {}, el('span', { class: 'sw', style: 'background: var(--up); opacity: .45' }), 'faded: powered off'));
  items.push(el('li', {}, el('span', { class: 'sw', style: 'box-shadow: inset 0 0 0 2px var(--risky)' }), 'risky'));
  items.push(el('li', {}, el('span', { class: 'sw', style: 'box-shadow: inset 0 0 0 2px var(--doomed)' }), 'doomed'));
  items.push(el('li', {}, el('span', { class: 'sw', style: 'background-image: linear-gradient(135deg, transparent 45%, #000a 45%, #000a 60%, transparent 60%)' }), 'held'));
  $('legend').replaceChildren(...items);
}

// --- filter ---------------------------------------------------------------------------

let filterWords = [];
function matches(n) {
  if (!filterWords.length) return true;
  const hay = `${n.name} ${n.phase} ${n.image} ${healthOf(n)} power-${powerOf(n)} ${n.hold ? 'held' : ''} ${n.job || ''}`.toLowerCase();
  return filterWords.every((w) => hay.includes(w));
}
function applyFilter() {
  for (const n of state.nodes.values()) {
    const b = state.cells.get(n.name);
    if (b) b.classList.toggle('dim', !matches(n));
  }
}
$('filter').addEventListener('input', () => {
  filterWords = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  applyFilter();
});

// --- keyboard on the grid: one tab stop, arrows move, Enter opens ---------------------

$('grid').addEventListener('keydown', (ev) => {
  const b = ev.target.closest('.cell');
  if (!b) return;
  const all = [...state.cells.values()];
  let i = all.indexOf(b), j = i;
  const cols = 12;
  if (ev.key === 'ArrowRight') j = i + 1;
  else if (ev.key === 'ArrowLeft') j = i - 1;
  else if (ev.key === 'ArrowDown') j = i + cols;
  else if (ev.key === 'ArrowUp') j = i - cols;
  else if (ev.key === 'Home') j = 0;
  else if (ev.key === 'End') j = all.length - 1;
  else return;
  ev.preventDefault();
  j = Math.max(0, Math.min(all.length - 1, j));
  b.tabIndex = -1;
  all[j].tabIndex = 0;
  all[j].focus();
});
$('grid').addEventListener('click', (ev) => {
  const b = ev.target.closest('.cell');
  if (b) location.hash = '#node/' + encodeURIComponent(b.dataset.node);
});

// --- pages ----------------------------------------------------------------------------

function currentNode() {
  const m = /^#node\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

function route() {
  if (!state.me) return;
  const h = location.hash || '#grid';
  const page = h.startsWith('#node/') ? 'node' : h === '#images' ? 'images' : h === '#hosts' ? 'hosts' : 'grid';
  state.page = page;
  for (const p of ['grid', 'node', 'images', 'hosts']) $('page-' + p).hidden = p !== page;
  for (const [id, p] of [['nav-grid', 'grid'], ['nav-images', 'images'], ['nav-hosts', 'hosts']]) {
    if (p === page || (p === 'grid' && page === 'node')) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
  if (page === 'node') showNode(currentNode(), false);
  else if (page === 'images') showImages();
  else if (page === 'hosts') showHosts();
}
window.addEventListener('hashchange', route);

function fmtTime(s) { return s ? new Date(s * 1000).toLocaleString() : '-'; }

async function showNode(name, quiet) {
  let r;
  try {
    r = await api('node.show', { name });
  } catch (e) {
    $('node-h').textContent = name;
    $('node-msg').textContent = e.message;
    return;
  }
  const n = r.node;
  $('node-h').textContent = `${n.name}: ${n.phase}`;
  const fields = [
    ['Phase', `${n.phase}${n.reason ? ' (' + n.reason + ')' : ''} since ${fmtTime(n.phase_at)}`],
    ['Power', `${n.power || 'unknown'} (wanted: ${n.want_power || '-'})`],
    ['Operation', n.op ? `${n.op}, attempt ${n.attempts}` : '-'],
    ['Image', n.image ? `${n.image}${n.image_pin ? ' pinned to ' + n.image_pin : ''}` : '-'],
    ['Boots', n.image_id || '-'],
    ['Booted', n.booted_image || '-'],
    ['Held', n.hold ? `yes${n.hold_reason ? ': ' + n.hold_reason : ''}` : 'no'],
    ['Drained', n.drain ? `yes${n.drain_reason ? ': ' + n.drain_reason : ''}` : n.drained ? 'by its health' : 'no'],
    ['Job', n.job ? `${n.job} (${n.class || '-'})` : '-'],
    ['MAC', n.mac], ['IP', n.ip || '-'],
    ['BMC', n.bmc ? `${n.bmc} (${n.bmc_state || 'unknown'})` : 'none'],
    ['Last error', n.last_error || '-'],
  ];
  if (n.receipt) fields.push(['Receipt', JSON.stringify(n.receipt)]);
  if (n.receipts) fields.push(['Receipts', JSON.stringify(n.receipts)]);
  $('node-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  const reasons = n.health_reasons ? String(n.health_reasons).split(/;\s*/).filter(Boolean) : [];
  $('node-health').replaceChildren(el('li', { text: `${n.health || 'ok'}${n.drained ? ', drained' : ''}` }),
    ...reasons.map((x) => el('li', { text: x })));
  $('node-history').tBodies[0].replaceChildren(...(n.history || []).map((h) =>
    el('tr', {}, el('td', { text: fmtTime(h.at) }), el('td', { text: h.phase }), el('td', { text: h.reason || '' }))));
  renderActions(n);
  try {
    const en = await api('energy', { names: n.name });
    const e = (en.nodes || [])[0];
    $('node-energy').replaceChildren(...(e ? Object.entries(e).filter(([k]) => k !== 'name')
      .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: typeof v === 'number' ? v.toFixed(3) : String(v) })]) : []));
  } catch (e) { $('node-energy').replaceChildren(el('dt', { text: 'energy' }), el('dd', { text: e.message })); }
  if (!quiet) $('node-h').focus && $('node-h').setAttribute('tabindex', '-1');
}

// Buttons only for what this role may do; bootsvc refuses the rest anyway (403).
function renderActions(n) {
  const box = $('node-actions');
  if (box.contains(document.activeElement) && box.dataset.node === n.name) return; // keep focus while acting
  box.dataset.node = n.name;
  const kids = [];
  const act = (label, verb, args, needed) => {
    if (!canAct(needed)) return;
    kids.push(el('button', { type: 'button', 'data-action': verb + (args.action ? ':' + args.action : ''),
      onclick: () => doAction(label, verb, Object.assign({ names: n.name }, args)) }, label));
  };
  if (canAct('scheduler')) {
    const sel = el('select', { id: 'prov-image', 'aria-label': 'Image to provision' });
    api('image.list').then((r) => {
      const names = [...new Set(r.images.map((i) => i.name))].sort();
      sel.replaceChildren(...names.map((x) => el('option', { value: x, selected: x === n.image }, x)));
    }).catch(() => {});
    kids.push(sel);
    kids.push(el('button', { type: 'button', 'data-action': 'provision',
      onclick: () => doAction('Provision', 'provision', { names: n.name, image: sel.value }) }, 'Provision'));
  }
  act('Power on', 'power', { action: 'on' }, 'scheduler');
  act('Power off', 'power', { action: 'off' }, 'scheduler');
  act('Power cycle', 'power', { action: 'cycle' }, 'scheduler');
  // Hold: the controller leaves the node alone (hold script). Drain, as Slurm's: no new
  // allocation takes it, nothing else changes. Both admin only to set.
  if (n.hold) act('Release', 'release', {}, 'scheduler');
  else act('Hold', 'hold', { reason: `held from the web view by ${state.me.user}` }, 'admin');
  if (n.drain) act('Undrain', 'undrain', {}, 'admin');
  else act('Drain', 'drain', { reason: `drained from the web view by ${state.me.user}` }, 'admin');
  box.replaceChildren(...kids);
  box.hidden = kids.length === 0;
}

async function doAction(label, verb, args) {
  $('node-msg').textContent = `${label}: sent`;
  try {
    await api(verb, args, true);
    $('node-msg').textContent = `${label}: done`;
  } catch (e) {
    $('node-msg').textContent = `${label}: refused (${e.status}): ${e.message}`;
    $('node-msg').classList.add('bad');
    return;
  }
  $('node-msg').classList.remove('bad');
}

async function showImages() {
  const [imgs, nodes] = await Promise.all([api('image.list'), api('node.list')]);
  const pins = new Map();
  for (const n of nodes.nodes) {
    if (!n.image_pin) continue;
    const k = n.image_id || n.image_pin;
    if (!pins.has(k)) pins.set(k, []);
    pins.get(k).push(n.name);
  }
  $('images').tBodies[0].replaceChildren(...imgs.images.map((i) => {
    const pinned = (pins.get(i.id) || []);
    return el('tr', {}, el('td', { text: i.name }), el('td', { text: i.id.slice(0, 12), title: i.id }),
      el('td', { text: i.current ? 'current' : '' }), el('td', { text: i.kind }),
      el('td', { text: i.kernel_version || '' }), el('td', { text: i.built || '' }),
      el('td', { text: pinned.length ? `${pinned.length}: ${pinned.slice(0, 20).join(' ')}${pinned.length > 20 ? ' ...' : ''}` : '-' }));
  }));
}

async function showHosts() {
  const [h, v] = await Promise.all([api('host.list'), api('vm.list')]);
  $('hosts').tBodies[0].replaceChildren(...h.hosts.map((x) => el('tr', {},
    el('td', { text: x.node }), el('td', { text: `${x.hypervisor} ${x.hypervisor_version || ''}` }),
    el('td', { text: `${x.cpus_used}/${x.cpus}` }), el('td', { text: `${x.memory_used_mib}/${x.memory_mib} MiB` }),
    el('td', { text: x.drain ? `yes${x.drain_reason ? ': ' + x.drain_reason : ''}` : 'no' }),
    el('td', {}, canAct('admin') ? el('button', { type: 'button', 'data-action': 'host.drain',
      onclick: async () => { try { await api('host.drain', x.drain ? { host: x.node, undo: true } : { host: x.node, reason: 'drained from the web view' }, true); } catch (e) { alert(e.message); } showHosts(); } },
    x.drain ? 'Undrain' : 'Drain') : null))));
  $('vms').tBodies[0].replaceChildren(...v.vms.map((x) => el('tr', {},
    el('td', { text: x.name }), el('td', { text: x.host }), el('td', { text: x.state }),
    el('td', { text: String(x.vcpus) }), el('td', { text: `${x.memory_mib} MiB` }))));
}

renderLegend();
start();
