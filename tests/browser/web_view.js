// SPDX-License-Identifier: MIT
// The web view in a real browser (tests/integ/web_view.sh runs it inside the test's
// network namespace): Debian's chromium, headless, driven by puppeteer-core.
//
//   node web_view.js boot URL SPKI OUTDIR   an admin logs in with the keyboard, provisions
//       n01 from its node page, and the grid in another tab shows n01 go to up live
//       (the phases seen on the way are printed); the node page shows its history; a
//       read-only user has no action buttons and its POST is refused with 403
//   node web_view.js grid URL SPKI PNG COUNT  the grid of COUNT nodes, screenshot to PNG
//
// SPKI is the base64 SHA-256 of the server key's SubjectPublicKeyInfo: chromium trusts
// that one key (--ignore-certificate-errors-spki-list), not every certificate.
// Exit status 0 when every check passed; each failure is printed as "FAIL: ...".
'use strict';

const path = require('path');
const puppeteer = require('puppeteer-core');

const [mode, url, spki] = process.argv.slice(2, 5);
const rest = process.argv.slice(5);
const ADMIN = { user: 'ada', password: process.env.WEB_ADMIN_PASSWORD };
const READER = { user: 'rob', password: process.env.WEB_READER_PASSWORD };
// How long n01 has to boot under TCG (the boot tests give it 300 s from power-on).
const BOOT_MS = 420 * 1000;

function fail(msg) {
  console.log('FAIL: ' + msg);
  process.exitCode = 1;
  throw new Error(msg);
}
const ok = (msg) => console.log('ok: ' + msg);

async function launch() {
  const args = ['--headless=new', `--ignore-certificate-errors-spki-list=${spki}`,
    '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'];
  // Chromium's sandbox needs unprivileged user namespaces for a non-root user and refuses
  // to run as root at all; the test runs as root (it makes network namespaces), so the
  // sandbox is off then. The page it loads is ours, from inside the test's namespace.
  if (process.getuid() === 0) args.push('--no-sandbox');
  return puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, args, defaultViewport: { width: 1600, height: 1000 } });
}

// Log in through the form with the keyboard only: Tab to each field, Enter submits.
async function login(ctx, who) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`page error (${who.user}): ${e.message}`));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user', { visible: true });
  await page.keyboard.type(who.user); // the field has focus on load
  await page.keyboard.press('Tab');
  await page.keyboard.type(who.password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#who:not(:empty)');
  const me = await page.$eval('#who', (e) => e.textContent);
  if (!me.startsWith(who.user)) fail(`logged in as '${me}', not ${who.user}`);
  return page;
}

async function boot() {
  const outdir = rest[0];
  const browser = await launch();
  try {
    const admin = await browser.createBrowserContext();
    const grid = await login(admin, ADMIN);
    ok('admin logged in with the keyboard');
    await grid.waitForSelector('.cell[data-node="n01"]');
    // n01 is off: its BMC says so (the power poll), and it has not booted.
    await grid.waitForFunction(() => {
      const c = document.querySelector('.cell[data-node="n01"]');
      return c.dataset.power === 'off' && c.dataset.phase === 'off';
    }, { timeout: 60000 }).catch(() => fail('n01 never showed as off'));
    const first = await grid.$eval('.cell[data-node="n01"]', (c) => `${c.dataset.phase}/${c.dataset.power}`);
    ok(`grid shows n01 ${first} (phase/power)`);
    // Every value the cell takes from now on, and a mark a reload would wipe.
    await grid.evaluate(() => {
      window.__seen = [];
      window.__mark = 'no-reload';
      const c = document.querySelector('.cell[data-node="n01"]');
      window.__seen.push(`${c.dataset.phase}/${c.dataset.power}`);
      new MutationObserver(() => {
        const v = `${c.dataset.phase}/${c.dataset.power}`;
        if (window.__seen[window.__seen.length - 1] !== v) window.__seen.push(v);
      }).observe(c, { attributes: true, attributeFilter: ['data-phase', 'data-power'] });
    });
    const apiCalls = [];
    grid.on('request', (r) => { if (r.url().includes('/api/')) apiCalls.push(r.url().replace(url, '')); });

    // A second tab: n01's node page; provision it with the keyboard (Tab to the button,
    // Enter), the image its registration names.
    const nodePage = await admin.newPage();
    await nodePage.goto(url + '#node/n01', { waitUntil: 'domcontentloaded' });
    await nodePage.waitForSelector('#node-actions button[data-action="provision"]');
    await nodePage.waitForFunction(() => document.querySelector('#prov-image').options.length > 0);
    await nodePage.focus('#prov-image');
    await nodePage.keyboard.press('Tab');
    const focused = await nodePage.evaluate(() => document.activeElement.dataset.action);
    if (focused !== 'provision') fail(`Tab from the image went to '${focused}', not the Provision button`);
    await nodePage.keyboard.press('Enter');
    await nodePage.waitForFunction(() => /Provision: (done|refused)/.test(document.querySelector('#node-msg').textContent));
    const said = await nodePage.$eval('#node-msg', (e) => e.textContent);
    if (!said.includes('done')) fail(`provision from the node page: ${said}`);
    ok('admin provisioned n01 from its node page with the keyboard');

    const t0 = Date.now();
    await grid.waitForFunction(() => document.querySelector('.cell[data-node="n01"]').dataset.phase === 'up',
      { timeout: BOOT_MS, polling: 'mutation' }).catch(() => fail('n01 did not show up in the grid'));
    const seen = await grid.evaluate(() => window.__seen);
    const mark = await grid.evaluate(() => window.__mark);
    console.log(`n01 in the grid, live: ${seen.join(' -> ')} (${((Date.now() - t0) / 1000).toFixed(1)} s after provision)`);
    if (mark !== 'no-reload') fail('the grid page was reloaded');
    const phases = seen.map((s) => s.split('/')[0]);
    for (const p of ['pxe', 'loading', 'up'])
      if (!phases.includes(p)) fail(`the grid never showed n01 in ${p}: ${seen.join(' -> ')}`);
    if (phases.indexOf('pxe') > phases.indexOf('loading') || phases.indexOf('loading') > phases.lastIndexOf('up'))
      fail(`phases out of order: ${seen.join(' -> ')}`);
    const polls = apiCalls.filter((u) => !u.startsWith('/api/events'));
    console.log(`grid tab's API calls while n01 booted: ${polls.length} (${[...new Set(polls)].join(' ')})`);
    ok('the grid showed n01 go from off through pxe and loading to up without a reload');
    await grid.screenshot({ path: path.join(outdir, 'web-boot.png') });

    // The node page: its history rows, in the page that stayed open (updated live too).
    await nodePage.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#node-history tbody tr')].map((r) => r.cells[1].textContent);
      return rows.includes('up') && rows.includes('pxe') && rows.includes('loading');
    }, { timeout: 30000 }).catch(() => fail('n01\'s node page lacks pxe, loading and up history rows'));
    const rows = await nodePage.$$eval('#node-history tbody tr', (rs) => rs.map((r) => r.cells[1].textContent));
    ok(`n01's node page shows ${rows.length} history rows: ${rows.join(' ')}`);
    const buttons = await nodePage.$$eval('[data-action]', (bs) => bs.map((b) => b.dataset.action));
    for (const a of ['provision', 'power:on', 'power:off', 'power:cycle', 'hold', 'drain'])
      if (!buttons.includes(a)) fail(`admin's node page lacks the ${a} button: ${buttons.join(' ')}`);
    ok(`admin's node page has the actions ${buttons.join(' ')}`);

    // Read-only: same node page, no buttons; a POST made by hand is refused (403).
    const ro = await browser.createBrowserContext();
    const rp = await login(ro, READER);
    await rp.goto(url + '#node/n01', { waitUntil: 'domcontentloaded' });
    await rp.waitForFunction(() => document.querySelector('#node-h').textContent.startsWith('n01'));
    await rp.waitForSelector('#node-history tbody tr');
    const roButtons = await rp.$$eval('[data-action]', (bs) => bs.length);
    if (roButtons !== 0) fail(`the read-only user sees ${roButtons} action buttons`);
    ok('read-only user: n01\'s node page has no action buttons');
    const res = await rp.evaluate(async () => {
      const me = (await (await fetch('/api/whoami')).json()).result;
      const r = await fetch('/api/power', { method: 'POST', headers: { 'Content-Type': 'application/json',
        'X-CSRF-Token': me.csrf }, body: JSON.stringify({ names: 'n01', action: 'off' }) });
      return { status: r.status, body: await r.text(), role: me.role };
    });
    if (res.role !== 'read-only' || res.status !== 403 || !res.body.includes('read-only'))
      fail(`read-only POST /api/power: ${res.status} ${res.body}`);
    ok(`read-only user's POST /api/power refused: ${res.status} ${res.body.trim()}`);
  } finally {
    await browser.close();
  }
}

async function gridShot() {
  const [png, count] = rest;
  const browser = await launch();
  try {
    const ctx = await browser.createBrowserContext();
    const page = await login(ctx, ADMIN);
    const t0 = Date.now();
    await page.waitForFunction((n) => document.querySelectorAll('#grid .cell').length === n,
      { timeout: 120000 }, Number(count)).catch(() => fail(`the grid never had ${count} cells`));
    await page.waitForSelector('#live.on');
    console.log(`grid of ${count} nodes rendered in ${Date.now() - t0} ms`);
    const total = await page.$eval('#counts li b', (b) => b.textContent);
    if (total !== String(count)) fail(`the counts say ${total} nodes, not ${count}`);
    const up = await page.$eval('#counts li[data-count="up"] b', (b) => b.textContent).catch(() => '0');
    if (process.env.WEB_EXPECT_UP && up !== process.env.WEB_EXPECT_UP)
      fail(`the counts say ${up} nodes up, not ${process.env.WEB_EXPECT_UP}`);
    const upCells = await page.$$eval('#grid .cell[data-phase="up"]', (c) => c.length);
    if (upCells !== Number(up)) fail(`${upCells} cells are up, the counts say ${up}`);
    // Keyboard on the grid: one tab stop, arrows move, Enter opens the node.
    await page.focus('#grid .cell[tabindex="0"]');
    await page.keyboard.press('ArrowRight');
    const second = await page.evaluate(() => document.activeElement.dataset.node);
    // The filter box dims what does not match.
    await page.type('#filter', 'r07n');
    const lit = await page.$$eval('#grid .cell:not(.dim)', (c) => c.length);
    await page.screenshot({ path: png.replace(/\.png$/, '-filter.png') });
    await page.$eval('#filter', (f) => { f.value = ''; f.dispatchEvent(new Event('input')); });
    await page.screenshot({ path: png, fullPage: true });
    ok(`screenshot of ${count} nodes (${up} up) in ${png}; arrow key moved to ${second}; filter 'r07n' left ${lit} lit`);
    await page.focus(`#grid .cell[data-node="${second}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelector('#node-h').textContent.startsWith(n), {}, second);
    ok(`Enter on ${second} opened its node page`);
    // The images page: the version every node registered with, pinned by none.
    await page.click('#nav-images');
    await page.waitForFunction(() => [...document.querySelectorAll('#images tbody tr')]
      .some((r) => r.cells[0].textContent === 'tiny' && r.cells[2].textContent === 'current'))
      .catch(() => fail('the images page does not list tiny as current'));
    // Hosts and VMs: the tables come (this cluster has no VM hosts: empty, not an error).
    await page.click('#nav-hosts');
    await page.waitForFunction(() => !document.querySelector('#page-hosts').hidden &&
      document.querySelector('#hosts tbody') !== null);
    const hostRows = await page.$$eval('#hosts tbody tr', (r) => r.length);
    ok(`images page lists tiny as current; hosts page shows ${hostRows} VM hosts`);
  } finally {
    await browser.close();
  }
}

(mode === 'boot' ? boot() : gridShot()).catch((e) => {
  if (!process.exitCode) console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
});
