// The live journey page of `juncture serve --ui`, in a real browser (docs/serve.md,
// "The live page"): starts nats-server and `juncture serve EXAMPLES --ui --metrics` on
// 127.0.0.1 and free ports, opens the page in headless Chromium (Debian's, driven by
// playwright-core), publishes the examples' demo events, and checks that
// - the page draws every journey (a node per step, from Graphviz);
// - its decision count grows from 0 and then equals juncture_decisions_total;
// - for each journey, the counts written on its steps add up to that journey's
//   juncture_decisions_total;
// - a bad message shows in the dead letters panel with its reason;
// - the split times panel has a row per channel that sent;
// - with --http-token, the page works when its address carries ?token= (it passes it
//   on to its picture and its event stream), and /metrics wants the token too.
// Writes a screenshot of the page to SCREENSHOT.png. Exit 0 if every check passes.
// usage: node live_page_test.js JUNCTURE EXAMPLES_DIR SCREENSHOT.png
'use strict';

const { chromium } = require('playwright-core');
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const [juncture, examples, screenshot] = process.argv.slice(2);
const TOKEN = 's3cret-token';
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
const failures = [];
function check(ok, what) {
  if (!ok) {
    failures.push(what);
    console.log('FAIL: ' + what);
  }
  return ok;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` until it returns a truthy value (returned) or `ms` pass (null).
async function until(probe, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) { /* not yet */ }
    await sleep(100);
  }
  return null;
}

// An identify and a signup of `user`, stamped now, whose time zone ("Etc/GMT+5" is UTC-5)
// puts the customer's local time near 13:00: outside every channel's quiet hours.
function MiddaySignup(user) {
  const now = new Date();
  const west = ((now.getUTCHours() - 13 + 36) % 24) - 12;  // hours behind UTC, -12..11
  const zone = west === 0 ? 'Etc/GMT' : `Etc/GMT${west > 0 ? '+' : '-'}${Math.abs(west)}`;
  const stamp = now.toISOString();
  const later = new Date(now.getTime() + 14 * 86400e3).toISOString();
  return JSON.stringify({ type: 'identify', messageId: `${user}-1`, userId: user, timestamp: stamp,
    traits: { name: 'Dora', email: `${user}@example.com`, country: 'US', timezone: zone,
      email_opt_in: true } }) + '\n' +
    JSON.stringify({ type: 'track', event: 'signup', messageId: `${user}-2`, userId: user,
      timestamp: stamp, properties: { plan: 'Pro', trial_ends_at: later } }) + '\n';
}

// juncture_decisions_total summed: over everything, and by journey.
async function decisionsTotal(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, auth)).text();
  let all = 0;
  const byJourney = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^juncture_decisions_total\{journey="([^"]*)"[^}]*\} (\d+)/);
    if (!m) continue;
    all += Number(m[2]);
    byJourney[m[1]] = (byJourney[m[1]] || 0) + Number(m[2]);
  }
  return { all, byJourney };
}

async function main() {
  const children = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'juncture-ui-'));
  let browser;
  try {
    const [natsPort, uiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
    children.push(nats);
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    check(await until(() => new Promise((resolve) => {
      const s = net.connect(natsPort, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    }), 10000), 'nats-server starts');

    const serveLog = fs.openSync(path.join(tmp, 'serve.log'), 'w');
    const serve = spawn(juncture, ['serve', examples, '--nats', natsUrl, '--ui', `127.0.0.1:${uiPort}`,
      '--metrics', `127.0.0.1:${metricsPort}`, '--state-dir', path.join(tmp, 'state'),
      '--http-token', TOKEN],
    { stdio: ['ignore', serveLog, serveLog] });
    children.push(serve);
    const started = await until(async () => (await fetch(`http://127.0.0.1:${uiPort}/api/board`, auth)).ok, 20000);
    if (!check(started, 'serve --ui answers: ' + fs.readFileSync(path.join(tmp, 'serve.log'), 'utf8'))) return;
    check((await fetch(`http://127.0.0.1:${uiPort}/`)).status === 401, 'the page wants the token');
    check((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status === 401, '/metrics wants the token');

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`http://127.0.0.1:${uiPort}/?token=${TOKEN}`);
    await page.waitForSelector('#journeys svg g.node', { timeout: 20000 });
    const nodes = await page.$$eval('#journeys svg g.node title', (ts) => ts.map((t) => t.textContent));
    for (const j of ['cart_rescue', 'onboarding', 'win_back']) {
      check(nodes.includes(`${j}.entry`) && nodes.some((n) => n.startsWith(`${j}.s`)),
        `the picture has journey ${j} with its steps: ${nodes.slice(0, 8)}`);
    }
    await page.waitForFunction(() => document.getElementById('status').textContent === 'live', null,
      { timeout: 10000 });
    check(await page.textContent('#total') === '0', 'no decision before any event');

    const published = spawnSync(juncture, ['publish', path.join(examples, 'events', 'demo.jsonl'),
      '--nats', natsUrl], { encoding: 'utf8' });
    // (The demo has two bad lines on purpose: publish skips them and says so.)
    check(/50 messages published/.test(published.stderr), 'publish the demo events: ' + published.stderr);
    // A message that is no message: a dead letter with its reason.
    spawnSync(juncture, ['publish', '-', '--nats', natsUrl],
      { input: '{"type":"track","event":"checkout_started","messageId":"bad-1","userId":"zoe",' +
               '"timestamp":"2026-12-01T10:00:00Z","properties":{"cart_value":"lots"}}\n' });
    // serve decides on the wall clock, and email keeps quiet hours (21:00-08:00 local):
    // between about 03:00 and 07:00 UTC every demo customer's emails are deferred. A
    // sign-up whose time zone puts it at midday now gets its welcome email whenever
    // the test runs.
    spawnSync(juncture, ['publish', '-', '--nats', natsUrl], { input: MiddaySignup('dora') });

    // The page follows the engine: its count reaches the metrics' and stays equal.
    const settled = await until(async () => {
      const metrics = await decisionsTotal(metricsPort);
      const shown = Number(await page.textContent('#total'));
      return metrics.all > 0 && shown === metrics.all ? { metrics, shown } : null;
    }, 30000);
    if (check(settled, 'the page shows as many decisions as juncture_decisions_total')) {
      // Every decision is at a step that has a node (entry, sN, exit, goal, end).
      const onSteps = await page.$$eval('#journeys text.live', (ts) => {
        const sums = {};
        for (const t of ts) sums[t.dataset.journey] = (sums[t.dataset.journey] || 0) + Number(t.dataset.total);
        return sums;
      });
      for (const [journey, n] of Object.entries(settled.metrics.byJourney)) {
        check(onSteps[journey] === n, `journey ${journey}: the steps show ${onSteps[journey]}, ` +
          `the metrics ${n}`);
      }
      const entry = await page.$eval('#journeys g.node:has(title:text-is("cart_rescue.entry")) text.live',
        (t) => t.textContent).catch(() => '');
      check(/entered \d+/.test(entry), `cart_rescue's entry shows how many entered: "${entry}"`);
    }
    const letters = await until(async () => {
      const text = await page.textContent('#letters');
      return text.includes("property 'cart_value' must be a number") ? text : null;
    }, 10000);
    check(letters, 'the dead letter shows with its reason');
    // The midday sign-up's email may be decided after the counts above settled.
    let channels = [];
    const both = await until(async () => {
      channels = await page.$$eval('#channels tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
      return channels.includes('email') && channels.includes('in_app');
    }, 10000);
    check(both, `split times per channel: ${channels}`);

    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  } finally {
    if (browser) await browser.close();
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      await until(() => child.exitCode !== null || child.signalCode !== null, 10000);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack || e));
  process.exit(1);
});
