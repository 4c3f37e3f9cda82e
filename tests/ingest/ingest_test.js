// `juncture ingest` end to end (docs/wire.md, "Messages in"; docs/serve.md): the real
// Segment and RudderStack Node SDKs send to the ingest, the ingest publishes into NATS,
// `juncture serve` decides, and the decisions are read back from NATS with the official
// `nats` client. On 127.0.0.1 and free ports it starts nats-server, `juncture serve
// PROGRAM_DIR --memory-state --metrics` and `juncture ingest --write-keys` (two keys), and
// checks that
// - each SDK (sdk_send.js: identify, track, page, screen, group, alias, a numeric userId,
//   an anonymous track; Segment with the first key, RudderStack gzipped with the second)
//   is answered 200 for every call, and exactly the expected sends come out on
//   juncture.decisions.> (journey, customer, outcome, reason, channel, template, params),
//   each caused by a message the ingest published (with receivedAt, Nats-Msg-Id = its
//   messageId) and signalled at that message's timestamp; group and alias decide
//   nothing and are counted in juncture_messages_ignored_total{reason="group_alias"};
//   the customer 4242, never identified, is suppressed for consent in both runs;
// - refused requests are answered 401 or 400 with {"success":false,"error":...} (no or
//   a wrong key; malformed JSON; a batch element that is not an object; no userId nor
//   anonymousId; a type sent to another call; an unknown type; a message over 32 KB; a
//   body over 500 KB; a gzip bomb and invalid gzip whatever the Content-Type says), and
//   nothing of them is published or decided; a write key in the body is accepted;
// - a request refused before its body is read (over 500 KB, a wrong Basic key) leaves
//   its kept-alive connection usable for the next request, or closes it;
// - a message POSTed twice (with a messageId, or without one: the ingest makes it from
//   the content) is decided once and counted in
//   juncture_messages_ignored_total{reason="duplicate"}; a message without timestamp, or
//   with "timestamp": null and "type": null, is completed (timestamp, receivedAt, type,
//   each member once) and decided;
// - serve's juncture_messages_total equals the messages the ingest published;
// - no dead letter is published;
// - with JetStream (a second nats-server with -js, serve --jetstream, ingest --jetstream):
//   a request before any stream exists is answered 503 and stores nothing; once serve
//   created its stream the Segment SDK's calls are answered 200 and decided; an ingest
//   whose subjects (--prefix other.events.p) no stream takes answers 503 within its
//   --publish-timeout-ms.
// Prints "ok: ..." or "FAIL: ..." per check. Exit 0 if every check passes, 1 if one
// fails, 77 (with "skipped: ...") where nats-server is not installed.
// usage: node ingest_test.js JUNCTURE PROGRAM_DIR
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const [juncture, programDir] = process.argv.slice(2);
if (!juncture || !programDir) {
  console.log('usage: node ingest_test.js JUNCTURE PROGRAM_DIR');
  process.exit(2);
}
if (spawnSync('nats-server', ['--version']).error) {
  console.log('skipped: nats-server is not installed');
  process.exit(77);
}
const { connect, StringCodec, headers: natsHeaders } = require('nats');

const KEYS = ['wk-segment-1', 'wk-rudder-2'];
const STAMP = Date.now().toString(36);
const sc = StringCodec();
const started = Date.now();

let passed = 0;
const failures = [];
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log('ok: ' + what);
  } else {
    failures.push(what);
    console.log('FAIL: ' + what + (detail === undefined ? '' : ` (${detail})`));
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
async function until(probe, ms, every = 50) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) { /* not yet */ }
    await sleep(every);
  }
  return null;
}

// JSON with its object keys sorted, to compare decisions whatever the order of members.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const basic = (key) => 'Basic ' + Buffer.from(key + ':').toString('base64');

// ---- the processes --------------------------------------------------------------

const children = [];
let tmp;

function startProcess(name, command, args) {
  const log = path.join(tmp, `${name}.log`);
  const fd = fs.openSync(log, 'w');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.name = name;
  child.log = log;
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  children.push(child);
  return child;
}

// SIGTERM, then SIGKILL after 10 s. Returns how it ended.
async function stop(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const ended = await Promise.race([child.exited, sleep(10000).then(() => null)]);
  if (ended) return ended;
  child.kill('SIGKILL');
  await child.exited;
  return { code: null, signal: 'SIGKILL (did not stop within 10 s of SIGTERM)' };
}

function tail(child, lines = 15) {
  try {
    return fs.readFileSync(child.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (e) {
    return '';
  }
}

async function startNats(extra) {
  const port = await freePort();
  const child = startProcess(`nats-server-${port}`, 'nats-server', ['-a', '127.0.0.1', '-p', String(port), ...extra]);
  const up = await until(() => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 10000);
  check(up, `nats-server ${extra.join(' ')}${extra.length ? ' ' : ''}listens on ${port}`, tail(child));
  return { child, url: `nats://127.0.0.1:${port}` };
}

async function startServe(natsUrl, extra) {
  const metricsPort = await freePort();
  const child = startProcess(`serve-${metricsPort}`, juncture, ['serve', programDir, '--nats', natsUrl,
    '--metrics', `127.0.0.1:${metricsPort}`, '--no-watch', ...extra]);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const up = await until(async () => (await fetch(metricsUrl)).ok, 20000);
  check(up, `juncture serve ${extra.join(' ')} answers on /metrics`, tail(child));
  return { child, metricsUrl };
}

async function startIngest(natsUrl, extra) {
  const port = await freePort();
  const child = startProcess(`ingest-${port}`, juncture, ['ingest', '--nats', natsUrl,
    '--http', `127.0.0.1:${port}`, '--write-keys', path.join(tmp, 'write-keys'), ...extra]);
  const url = `http://127.0.0.1:${port}`;
  const up = await until(async () => (await fetch(`${url}/health`)).status === 200, 10000);
  check(up, `juncture ingest ${extra.join(' ')}${extra.length ? ' ' : ''}answers GET /health with 200`, tail(child));
  return { child, url };
}

// One sample of a metric (the exact series, labels included), or null.
async function metric(metricsUrl, series) {
  const text = await (await fetch(metricsUrl)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return null;
}
const IGNORED_DUPLICATE = 'juncture_messages_ignored_total{reason="duplicate"}';
const IGNORED_GROUP_ALIAS = 'juncture_messages_ignored_total{reason="group_alias"}';

// ---- what NATS carries -------------------------------------------------------------

// Subscribes (and waits until the server has the subscriptions) to the decisions, the
// dead letters and, when `events`, the events the ingest publishes.
async function watch(url, events) {
  const nc = await connect({ servers: url, name: 'ingest_test' });
  const seen = { nc, decisions: [], deadLetters: [], events: events ? [] : null };
  const follow = (subject, into, read) => {
    const sub = nc.subscribe(subject);
    (async () => {
      for await (const m of sub) into.push(read(m));
    })();
  };
  follow('juncture.decisions.>', seen.decisions, (m) => {
    try {
      return { subject: m.subject, ...JSON.parse(sc.decode(m.data)) };
    } catch (e) {
      return { subject: m.subject, unparsed: sc.decode(m.data) };
    }
  });
  follow('juncture.deadletter', seen.deadLetters, (m) => ({
    reason: m.headers ? m.headers.get('Juncture-Error') : '', body: sc.decode(m.data),
  }));
  if (events) {
    follow('juncture.events.>', seen.events, (m) => {
      const text = sc.decode(m.data);
      let json = null;
      try {
        json = JSON.parse(text);
      } catch (e) { /* checked where used */ }
      return { subject: m.subject, msgId: m.headers ? m.headers.get('Nats-Msg-Id') : '', json, text };
    });
  }
  await nc.flush();
  return seen;
}

// A send (a decision with a channel) as compared: what the journey decided, not its ids.
function sendOf(d) {
  const s = { journey: d.journey, customer: d.customer, outcome: d.outcome, channel: d.channel,
    template: d.template, params: d.params };
  if (d.reason !== undefined) s.reason = d.reason;
  return s;
}
const sent = (journey, customer, channel, template, params) =>
  ({ journey, customer, outcome: 'sent', channel, template, params });

// ---- HTTP ---------------------------------------------------------------------------

let seq = 0;
// A purchase (the `thanks` journey sends for every one) of `customer`.
function purchase(customer, extra = {}) {
  return { type: 'track', event: 'purchase', userId: customer, messageId: `${customer}-m${++seq}`,
    timestamp: new Date().toISOString(), properties: { amount: 1.5, order_id: `o-${customer}` }, ...extra };
}

// POST on a connection of its own (agent: false): each answer is the ingest's to that request
// alone, whatever an earlier request left on a kept-alive connection (see keepAliveChecks).
function post(ingestUrl, call, body, { key = KEYS[0], headers = {} } = {}) {
  const h = { 'Content-Type': 'application/json', ...headers };
  if (key !== null) h.Authorization = basic(key);
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const done = (status, text) => {
      let json = null;
      try {
        json = JSON.parse(text);
      } catch (e) { /* not JSON: checked where used */ }
      resolve({ status, text, json, ms: Date.now() - t0 });
    };
    const req = http.request(`${ingestUrl}/v1/${call}`, { method: 'POST', headers: h, agent: false, timeout: 15000 },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => done(res.statusCode, Buffer.concat(chunks).toString('utf8')));
        res.on('error', (e) => done(0, `response failed: ${e}`));
      });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    // The ingest may answer (and close) before it has read the whole body: that answer counts.
    req.on('error', (e) => done(0, `request failed: ${e}`));
    req.end(data);
  });
}

// Raw HTTP/1.1 on one kept-alive connection: sends each request once the answer to the one
// before it came, and returns the answers ({status, headers, body} or {error}).
function exchange(port, requests) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const answers = [];
    let buffer = Buffer.alloc(0);
    let closed = false;
    let finished = false;
    let timer = null;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answers);
    };
    const next = () => {
      clearTimeout(timer);
      if (finished) return;
      if (answers.length === requests.length) return finish();
      if (closed) {
        answers.push({ error: 'the ingest closed the connection' });
        return next();
      }
      timer = setTimeout(() => {
        answers.push({ error: 'no answer within 3 s' });
        finish();
      }, 3000);
      socket.write(requests[answers.length]);
    };
    const parse = () => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] || 0);
      if (buffer.length < end + 4 + length) return false;
      answers.push({ status: Number(lines[0].split(' ')[1]), headers,
        body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
      buffer = buffer.subarray(end + 4 + length);
      return true;
    };
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      while (parse()) next();
    });
    socket.on('error', () => { /* a write after the ingest closed: the next answer says */ });
    socket.on('close', () => {
      closed = true;
      if (!finished && answers.length < requests.length) {
        answers.push({ error: 'the ingest closed the connection' });
        next();
      }
    });
    socket.on('connect', next);
  });
}

function rawRequest(call, body, key) {
  const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return Buffer.concat([Buffer.from(`POST /v1/${call} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: ${basic(key)}\r\nContent-Type: application/json\r\nContent-Length: ${data.length}\r\n\r\n`), data]);
}

function checkAnswer(what, r, status, errorPart) {
  const shown = `got ${r.status} ${r.text.slice(0, 200)}`;
  if (status === 200) return check(r.status === 200 && r.json && r.json.success === true, `${what}: 200 {"success":true}`, shown);
  const ok = r.status === status && r.json && r.json.success === false && typeof r.json.error === 'string' &&
    r.json.error.includes(errorPart);
  return check(ok, `${what}: ${status} {"success":false,"error":` +
    `${ok ? JSON.stringify(r.json.error) : `"...${errorPart}..."`}}`, shown);
}

// Waits (at most `ms`) until `count` decisions pass `pred`; returns those there are then.
async function decisionsOf(seen, pred, count, ms = 10000) {
  await until(() => seen.decisions.filter(pred).length >= count, ms);
  return seen.decisions.filter(pred);
}

const isThanksSentTo = (customer) => (d) => d.journey === 'thanks' && d.outcome === 'sent' && d.customer === customer;

// A purchase behind everything sent so far (the ingest publishes on one connection, in
// order; serve decides in order): once its send is out, so is every decision before it.
let sentinels = 0;
async function sentinel(seen, ingestUrl, label) {
  const customer = `sentinel-${STAMP}-${++sentinels}`;
  const r = await post(ingestUrl, 'track', purchase(customer));
  const out = r.status === 200 && (await decisionsOf(seen, isThanksSentTo(customer), 1)).length === 1;
  return check(out, `${label}: a purchase sent after it is decided within 10 s`, `${r.status} ${r.text}`);
}

// ---- the SDKs -------------------------------------------------------------------------

// sdk_send.js in a process of its own: {code, out}.
function runSdk(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'sdk_send.js'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

// The sends the fixed sequence of sdk_send.js leads to, with run id `rid`.
function expectedSends(rid) {
  return [
    // identify (email_opt_in true, plan pro), then cart_updated 120.5 USD
    sent('cart_followup', `${rid}-u1`, 'email', 'cart_followup', { value: 120.5, currency: 'USD', plan: 'pro' }),
    // page Pricing, category Docs, path /pricing
    sent('pricing_help', `${rid}-u1`, 'email', 'pricing_help', { path: '/pricing', category: 'Docs' }),
    // screen Checkout step 2
    sent('checkout_nudge', `${rid}-u2`, 'push', 'checkout_nudge', { step: 2 }),
    // group, alias: nothing. userId 4242 (never identified: email_opt_in false) cart_updated 10 EUR
    { ...sent('cart_followup', '4242', 'email', 'cart_followup', { value: 10, currency: 'EUR', plan: 'free' }),
      outcome: 'suppressed', reason: 'consent' },
    // anonymous purchase
    sent('thanks', `${rid}-anon-2`, 'push', 'thanks', { order: 'o-1', amount: 99 }),
  ];
}

// Sends the sequence through `sdk` to `ingestUrl` and checks what comes out on NATS.
async function sdkRun(seen, ingestUrl, sdk, key, rid, label = sdk) {
  const fromDecision = seen.decisions.length;
  const fromEvent = seen.events ? seen.events.length : 0;
  const run = await runSdk(['--url', ingestUrl, '--write-key', key, '--sdk', sdk, '--run-id', rid]);
  check(run.code === 0, `${label}: sdk_send.js delivers its 8 calls (exit 0)`, `exit ${run.code} ${run.signal || ''}: ${run.out.trim()}`);
  const ours = (d) => d.customer === '4242' || (typeof d.customer === 'string' && d.customer.startsWith(`${rid}-`));
  const expected = expectedSends(rid);
  const isSend = (d) => d.channel !== undefined;
  await until(() => seen.decisions.slice(fromDecision).filter((d) => isSend(d) && ours(d)).length >= expected.length, 10000);
  await sentinel(seen, ingestUrl, `${label}: after the SDK's calls`);
  const decisions = seen.decisions.slice(fromDecision).filter(ours);
  const sends = decisions.filter(isSend);
  const got = sends.map((d) => canonical(sendOf(d))).sort();
  const want = expected.map(canonical).sort();
  check(canonical(got) === canonical(want), `${label}: exactly the expected sends come out: ` +
    'cart_followup sent (120.5 USD pro), pricing_help sent (/pricing, Docs), checkout_nudge sent (step 2), ' +
    'cart_followup for "4242" suppressed (consent), thanks sent (o-1)',
  `got ${got.join(' ')}`);
  // Every other decision is the entry or the completion of one of these walks.
  const causes = new Set(sends.map((d) => d.cause));
  const others = decisions.filter((d) => !isSend(d) &&
    !(['entered', 'completed'].includes(d.outcome) && causes.has(d.cause)));
  check(others.length === 0, `${label}: no other decision than those sends' entries and completions`,
    others.map((d) => JSON.stringify(d)).join(' '));
  check(!decisions.some((d) => d.customer === `${rid}-anon-1`), `${label}: the alias's previousId decides nothing`);

  if (!seen.events) return sends;
  // What the ingest published for this run, read from juncture.events.>.
  const events = seen.events.slice(fromEvent).filter((e) => e.json &&
    (String(e.json.userId ?? e.json.anonymousId) === '4242' || String(e.json.userId ?? e.json.anonymousId).startsWith(`${rid}-`)));
  const types = events.map((e) => e.json.type).sort().join(',');
  check(events.length === 8 && types === 'alias,group,identify,page,screen,track,track,track',
    `${label}: the ingest published the 8 calls once each on juncture.events.p.<partition>`, `${events.length}: ${types}`);
  const complete = events.every((e) => /^juncture\.events\.p\.\d+$/.test(e.subject) &&
    typeof e.json.messageId === 'string' && e.msgId === e.json.messageId &&
    !Number.isNaN(Date.parse(e.json.receivedAt)) &&
    !Number.isNaN(Date.parse(e.json.timestamp ?? e.json.originalTimestamp)));
  check(complete, `${label}: each published message has receivedAt, a timestamp or originalTimestamp, and Nats-Msg-Id = its messageId`,
    events.map((e) => `${e.subject} ${e.msgId} ${JSON.stringify(e.json).slice(0, 300)}`).join('\n'));
  const u1Subjects = new Set(events.filter((e) => e.json.userId === `${rid}-u1`).map((e) => e.subject));
  check(u1Subjects.size === 1, `${label}: one customer's messages all go to one partition's subject`, [...u1Subjects].join(' '));
  const byId = new Map(events.map((e) => [e.json.messageId, e.json]));
  const badSignal = sends.filter((d) => {
    const m = byId.get(d.cause);
    return !m || Date.parse(d.signal) !== Date.parse(m.timestamp ?? m.originalTimestamp);
  });
  check(badSignal.length === 0, `${label}: each send's cause is a published messageId and its signal that message's timestamp`,
    badSignal.map((d) => JSON.stringify(d)).join(' '));
  const unused = events.filter((e) => ['group', 'alias'].includes(e.json.type)).map((e) => e.json.messageId);
  check(unused.length === 2 && !seen.decisions.some((d) => unused.includes(d.cause)),
    `${label}: group and alias decide nothing`);
  return sends;
}

// ---- the raw HTTP checks --------------------------------------------------------------

async function rawChecks(seen, ingestUrl, metricsUrl) {
  const refused = [];  // customers of refused requests: nothing of them may come out
  const c = (name) => `raw-${STAMP}-${name}`;
  const refusedCustomer = (name) => { refused.push(c(name)); return c(name); };

  // Write keys.
  checkAnswer('no credentials', await post(ingestUrl, 'track', purchase(refusedCustomer('nokey')), { key: null }),
    401, 'write key');
  checkAnswer('a wrong key by Basic authentication', await post(ingestUrl, 'track', purchase(refusedCustomer('wrongkey')),
    { key: 'not-a-key' }), 401, 'not a valid write key');
  checkAnswer('a wrong writeKey in the body', await post(ingestUrl, 'batch',
    { writeKey: 'not-a-key', batch: [purchase(refusedCustomer('wrongbodykey'))] }, { key: null }), 401, 'write key');
  const bodyKeyCustomer = c('bodykey');
  checkAnswer('the second key as writeKey in a batch body, no Authorization', await post(ingestUrl, 'batch',
    { writeKey: KEYS[1], batch: [purchase(bodyKeyCustomer)] }, { key: null }), 200);

  // Malformed.
  checkAnswer('malformed JSON', await post(ingestUrl, 'track',
    `{"type":"track","event":"purchase","userId":"${refusedCustomer('malformed')}","properties":{`), 400, 'invalid JSON');
  checkAnswer('a body that is not an object', await post(ingestUrl, 'track', '[1,2]'), 400, 'JSON object');
  checkAnswer('a batch whose first element is not an object', await post(ingestUrl, 'batch',
    { batch: [42, purchase(refusedCustomer('batch0'))] }), 400, 'batch[0]');
  const noIds = purchase('x');
  delete noIds.userId;
  checkAnswer('a message without userId and anonymousId', await post(ingestUrl, 'track', noIds), 400,
    'missing userId and anonymousId');
  checkAnswer('type "identify" sent to /v1/track', await post(ingestUrl, 'track',
    { type: 'identify', userId: refusedCustomer('mismatch'), messageId: `${c('mismatch')}-1`, traits: { plan: 'pro' } }),
  400, 'type "identify" sent to /v1/track');
  checkAnswer('an unknown type in a batch (after a valid message)', await post(ingestUrl, 'batch',
    { batch: [purchase(refusedCustomer('unknown-ok')), { ...purchase(refusedCustomer('unknown')), type: 'purchase' }] }),
  400, 'batch[1]: type must be one of');
  checkAnswer('a messageId that is not a string', await post(ingestUrl, 'track',
    purchase(refusedCustomer('numericid'), { messageId: 12 })), 400, 'messageId');

  // Too large.
  const big = purchase(refusedCustomer('big32'), { properties: { amount: 1, order_id: 'x'.repeat(33 * 1024) } });
  checkAnswer('a message over 32 KB in a batch (after a valid one)', await post(ingestUrl, 'batch',
    { batch: [purchase(refusedCustomer('big32-ok')), big] }), 400, '32 KB');
  const many = [];
  for (let i = 0; i < 600; i++) {
    many.push(purchase(i === 0 ? refusedCustomer('big500') : c('big500'), { properties: { amount: 1, order_id: 'y'.repeat(900) } }));
  }
  const manyBody = JSON.stringify({ batch: many });
  checkAnswer(`a batch of ${Math.round(manyBody.length / 1024)} KB`, await post(ingestUrl, 'batch', manyBody), 400, '500 KB');
  const bombJson = JSON.stringify({ batch: [purchase(refusedCustomer('bomb'),
    { properties: { amount: 1, order_id: '0'.repeat(2 * 1024 * 1024) } })] });
  const bomb = zlib.gzipSync(bombJson, { level: 9 });
  checkAnswer(`a gzip body of ${bomb.length} bytes that makes ${Math.round(bombJson.length / 1024)} KB ` +
    '(form-urlencoded, no Content-Encoding)', await post(ingestUrl, 'batch', bomb,
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 400, '500 KB once uncompressed');
  checkAnswer('the same gzip body with Content-Encoding: gzip', await post(ingestUrl, 'batch', bomb,
    { headers: { 'Content-Encoding': 'gzip' } }), 400, '500 KB');
  const badGzip = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('this is not deflate at all, ' + c('badgzip'))]);
  refused.push(c('badgzip'));
  checkAnswer('invalid gzip (1f 8b, then garbage)', await post(ingestUrl, 'batch', badGzip,
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 400, 'not valid gzip');
  const truncated = zlib.gzipSync(JSON.stringify({ batch: [purchase(refusedCustomer('truncgzip'))] }));
  checkAnswer('a truncated gzip body', await post(ingestUrl, 'batch', truncated.subarray(0, truncated.length - 12),
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 400, 'not valid gzip');

  // A request refused before its body is read (over 500 KB; a wrong key in Basic
  // authentication) must not spoil its kept-alive connection: the ingest either reads (or
  // skips) the rest of the body, or closes the connection (Connection: close). Otherwise
  // the rest of the body is read as the next request, and the client's next request on
  // that connection (an SDK's next batch) gets the answer to that garbage.
  const port = Number(new URL(ingestUrl).port);
  const keepAlive = [
    ['a batch over 500 KB', rawRequest('batch', manyBody, KEYS[0]), 400],
    ['a wrong key in Basic authentication with a 20 KB body', rawRequest('track',
      purchase(refusedCustomer('wrongkey-20k'), { properties: { amount: 1, order_id: 'z'.repeat(20 * 1024) } }),
      'not-a-key'), 401],
  ];
  const keptAlive = [];
  for (const [what, request, status] of keepAlive) {
    const customer = c(`keepalive-${keptAlive.length}`);
    const [first, second] = await exchange(port, [request, rawRequest('track', purchase(customer), KEYS[0])]);
    check(first.status === status, `kept-alive connection: ${what}: ${status}`, JSON.stringify(first));
    const closes = /close/i.test((first.headers && first.headers.connection) || '');
    const answered = second.status === 200 && second.body === '{"success":true}';
    if (check(closes || answered, `kept-alive connection: after ${what}, the next request on the connection is ` +
      'answered 200 by the ingest, or the ingest said Connection: close',
    `first ${first.status} ${JSON.stringify(first.headers)}; next: ${JSON.stringify(second)}`) && answered) {
      keptAlive.push(customer);
    }
  }

  await sentinel(seen, ingestUrl, 'after the refused requests');
  for (const customer of keptAlive) {
    check((await decisionsOf(seen, isThanksSentTo(customer), 1)).length === 1,
      `kept-alive connection: the request after the refused one is decided (${customer})`);
  }
  check((await decisionsOf(seen, isThanksSentTo(bodyKeyCustomer), 1)).length === 1,
    'the request with writeKey in its body is decided');
  const leaked = seen.decisions.filter((d) => refused.includes(d.customer));
  check(leaked.length === 0, `nothing of a refused request is decided (${refused.length} customers)`,
    leaked.map((d) => JSON.stringify(d)).join(' '));
  const published = seen.events.filter((e) => e.json && refused.includes(e.json.userId));
  check(published.length === 0, 'nothing of a refused request is published', published.map((e) => e.subject).join(' '));

  // Duplicates: the same message twice.
  const dupsBefore = await metric(metricsUrl, IGNORED_DUPLICATE);
  const dup = purchase(c('dup'));
  const first = await post(ingestUrl, 'track', dup);
  const second = await post(ingestUrl, 'track', dup);
  check(first.status === 200 && second.status === 200, 'the same message (same messageId) POSTed twice: 200 both times',
    `${first.status} ${second.status}`);
  await sentinel(seen, ingestUrl, 'after the duplicate');
  const dupDecided = seen.decisions.filter((d) => d.customer === c('dup') && d.channel);
  check(dupDecided.length === 1 && dupDecided[0].cause === dup.messageId, 'it is decided once (one thanks send)',
    dupDecided.map((d) => JSON.stringify(d)).join(' '));
  const dupEvents = seen.events.filter((e) => e.json && e.json.messageId === dup.messageId);
  check(dupEvents.length === 2 && dupEvents.every((e) => e.msgId === dup.messageId),
    'the ingest publishes both copies with Nats-Msg-Id = the messageId (serve drops the second)', dupEvents.length);
  const dupsAfter = await until(async () => {
    const n = await metric(metricsUrl, IGNORED_DUPLICATE);
    return n !== null && n >= dupsBefore + 1 ? n : null;
  }, 5000);
  check(dupsAfter === dupsBefore + 1, `${IGNORED_DUPLICATE} goes up by 1`, `${dupsBefore} -> ${dupsAfter}`);

  // A message without messageId, twice in identical bodies: the ingest's id is the same.
  const noId = purchase(c('noid'));
  delete noId.messageId;
  const noIdBody = JSON.stringify(noId);
  const n1 = await post(ingestUrl, 'track', noIdBody);
  const n2 = await post(ingestUrl, 'track', noIdBody);
  check(n1.status === 200 && n2.status === 200, 'a message without messageId POSTed twice: 200 both times',
    `${n1.status} ${n2.status}`);
  await sentinel(seen, ingestUrl, 'after the duplicate without messageId');
  const noIdDecided = seen.decisions.filter((d) => d.customer === c('noid') && d.channel);
  check(noIdDecided.length === 1 && /^ingest-[0-9a-f]{32}$/.test(noIdDecided[0].cause),
    'it is decided once, caused by the id the ingest made from its content (ingest-<128-bit hash>)',
    noIdDecided.map((d) => JSON.stringify(d)).join(' '));
  const noIdEvents = seen.events.filter((e) => e.json && e.json.userId === c('noid'));
  check(noIdEvents.length === 2 && noIdEvents[0].json.messageId === noIdEvents[1].json.messageId,
    'both copies were published with the same made-up messageId', noIdEvents.map((e) => e.msgId).join(' '));
  const dupsAfter2 = await until(async () => {
    const n = await metric(metricsUrl, IGNORED_DUPLICATE);
    return n !== null && n >= dupsAfter + 1 ? n : null;
  }, 5000);
  check(dupsAfter2 === dupsAfter + 1, `${IGNORED_DUPLICATE} goes up by 1 again`, `${dupsAfter} -> ${dupsAfter2}`);

  // A message without timestamp (nor receivedAt): the ingest adds both, and it is decided.
  const noTime = purchase(c('notime'));
  delete noTime.timestamp;
  const before = Date.now();
  checkAnswer('a message without timestamp', await post(ingestUrl, 'track', noTime), 200);
  const after = Date.now();
  const noTimeDecided = await decisionsOf(seen, isThanksSentTo(c('notime')), 1);
  const noTimeEvent = seen.events.find((e) => e.json && e.json.userId === c('notime'));
  const m = noTimeEvent ? noTimeEvent.json : {};
  const inRequest = (t) => Date.parse(t) >= before - 1000 && Date.parse(t) <= after + 1000;
  check(noTimeEvent && m.timestamp === m.receivedAt && inRequest(m.timestamp),
    'the ingest sets its timestamp and receivedAt to when it received it', JSON.stringify(m));
  check(noTimeDecided.length === 1 && noTimeDecided[0].signal && Date.parse(noTimeDecided[0].signal) === Date.parse(m.timestamp),
    'it is decided (thanks sent), signalled at that timestamp', noTimeDecided.map((d) => JSON.stringify(d)).join(' '));

  // "timestamp": null and "type": null count as missing (docs/wire.md): the ingest fills
  // them in, and the message it publishes has each member once (JSON with a name twice is
  // read differently by different parsers: JSON.parse keeps the last one, simdjson the first).
  const nulls = purchase(c('nulls'), { type: null, timestamp: null });
  checkAnswer('a message with "type": null and "timestamp": null', await post(ingestUrl, 'track', nulls), 200);
  const nullsDecided = await decisionsOf(seen, isThanksSentTo(c('nulls')), 1);
  check(nullsDecided.length === 1, 'it is decided (thanks sent)');
  const nullsEvent = seen.events.find((e) => e.json && e.json.userId === c('nulls'));
  const count = (name) => (nullsEvent ? nullsEvent.text.split(`"${name}":`).length - 1 : 0);
  check(nullsEvent && count('type') === 1 && count('timestamp') === 1 && nullsEvent.json.type === 'track' &&
    typeof nullsEvent.json.timestamp === 'string',
  'the ingest publishes it with one "type" ("track") and one "timestamp" (when it received it), not a second, null, one',
  nullsEvent && nullsEvent.text);
}

// ---- JetStream ----------------------------------------------------------------------

async function jetStreamChecks() {
  const nats = await startNats(['-js', '-sd', path.join(tmp, 'jetstream')]);
  const seen = await watch(nats.url, false);
  try {
    const jsm = await seen.nc.jetstreamManager();
    // The ingest starts before serve: no stream takes juncture.events.p.* yet.
    const ingest = await startIngest(nats.url, ['--jetstream', '--publish-timeout-ms', '2000']);
    const early = purchase(`js-${STAMP}-early`);
    const before = await post(ingest.url, 'track', early);
    checkAnswer('jetstream: a request before any stream takes its subject', before, 503, 'JetStream');
    check(before.ms < 5000, 'jetstream: the 503 comes within 5 s', `${before.ms} ms`);

    const serve = await startServe(nats.url, ['--jetstream', '--state-dir', path.join(tmp, 'js-state')]);
    const stream = await until(async () => (await jsm.streams.info('JUNCTURE_EVENTS')).config, 10000);
    check(stream && stream.subjects.includes('juncture.events.>'),
      'jetstream: serve created the stream JUNCTURE_EVENTS on juncture.events.>', stream && stream.subjects);

    const rid = `js-${STAMP}`;
    await sdkRun(seen, ingest.url, 'segment', KEYS[0], rid, 'jetstream: segment');
    const again = await post(ingest.url, 'track', early);
    checkAnswer('jetstream: the refused request sent again once the stream exists', again, 200);
    const earlyDecided = await decisionsOf(seen, isThanksSentTo(early.userId), 1);
    await sleep(300);
    check(seen.decisions.filter(isThanksSentTo(early.userId)).length === 1,
      'jetstream: ...and decided once (the 503 stored nothing)', earlyDecided.length);
    const info = await jsm.streams.info('JUNCTURE_EVENTS');
    // 8 SDK calls, the SDK run's sentinel, the early purchase sent again.
    check(info.state.messages === 10, 'jetstream: the stream holds exactly the 10 messages answered 200', info.state.messages);
    const groupAlias = await until(async () => (await metric(serve.metricsUrl, IGNORED_GROUP_ALIAS)) === 2, 5000);
    check(groupAlias, `jetstream: ${IGNORED_GROUP_ALIAS} = 2`, await metric(serve.metricsUrl, IGNORED_GROUP_ALIAS));

    // An ingest whose subjects no stream takes.
    const other = await startIngest(nats.url, ['--jetstream', '--prefix', 'other.events.p', '--publish-timeout-ms', '2000']);
    const r = await post(other.url, 'track', purchase(`js-${STAMP}-other`));
    checkAnswer('jetstream: an ingest whose --prefix no stream takes', r, 503, 'JetStream');
    check(r.ms < 5000, 'jetstream: ...at once (no responders), within 5 s', `${r.ms} ms`);
    // With a core subscriber on those subjects the publish is delivered but never
    // acknowledged: the answer waits --publish-timeout-ms, then 503.
    const listener = seen.nc.subscribe('other.events.>');
    await seen.nc.flush();
    const slow = await post(other.url, 'track', purchase(`js-${STAMP}-other-2`));
    listener.unsubscribe();
    checkAnswer('jetstream: the same with a core subscriber (no acknowledgement)', slow, 503, 'JetStream');
    check(slow.ms >= 1800 && slow.ms < 5000, 'jetstream: ...after --publish-timeout-ms 2000', `${slow.ms} ms`);
    check(seen.deadLetters.length === 0, 'jetstream: no dead letter',
      seen.deadLetters.map((l) => `${l.reason}: ${l.body}`).join(' '));

    // The deciders' own deduplication (docs/wire.md): copies the stream cannot tell
    // apart (other Nats-Msg-Id headers, as after its duplicate window), before and after
    // a restart of serve on the same state directory: the ids are in the stored state.
    const js = seen.nc.jetstream();
    const copy = purchase(`js-${STAMP}-redelivered`);
    const publishCopy = async (n) => {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', `copy-${STAMP}-${n}`);
      await js.publish('juncture.events.p.0', sc.encode(JSON.stringify(copy)), { headers: h });
    };
    await publishCopy(1);
    await publishCopy(2);
    await decisionsOf(seen, isThanksSentTo(copy.userId), 1);
    const dupsBefore = await until(async () => (await metric(serve.metricsUrl, IGNORED_DUPLICATE)) === 1, 5000);
    check(dupsBefore, `jetstream: a copy with another Nats-Msg-Id is stored, then ignored by serve (${IGNORED_DUPLICATE} = 1)`,
      await metric(serve.metricsUrl, IGNORED_DUPLICATE));
    const stopped = await stop(serve.child);
    check(stopped.code === 0, 'jetstream: serve exits 0 on SIGTERM', `${stopped.code} ${stopped.signal}`);
    const restarted = await startServe(nats.url, ['--jetstream', '--state-dir', path.join(tmp, 'js-state')]);
    await publishCopy(3);
    await sentinel(seen, ingest.url, 'jetstream: after the restart');
    check(seen.decisions.filter(isThanksSentTo(copy.userId)).length === 1,
      'jetstream: ...and a third copy after a restart of serve too (its id was stored with the customer)',
      seen.decisions.filter(isThanksSentTo(copy.userId)).length);

    for (const [what, child] of [['the ingest with --prefix other.events.p', other.child], ['the ingest', ingest.child],
      ['serve, restarted', restarted.child]]) {
      const end = await stop(child);
      check(end.code === 0, `jetstream: ${what} exits 0 on SIGTERM`, `${end.code} ${end.signal}`);
    }
  } finally {
    await seen.nc.close();
  }
}

// ---- main ---------------------------------------------------------------------------

// Whatever happens, nothing is left running after 100 s (ctest's TIMEOUT would leave the
// servers behind).
setTimeout(() => {
  check(false, 'the test ends within 100 s');
  for (const child of children) child.kill('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}, 100000).unref();

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'juncture-ingest-'));
  fs.writeFileSync(path.join(tmp, 'write-keys'), `# the test's keys\n${KEYS.join('\n')}\n`);
  let seen;
  try {
    const calls = spawnSync(process.execPath, [path.join(__dirname, 'sdk_send.js'), '--print', '--run-id', 'x'],
      { encoding: 'utf8' });
    const types = new Set(JSON.parse(calls.stdout).map((call) => call.type));
    check(['identify', 'track', 'page', 'screen', 'group', 'alias'].every((t) => types.has(t)),
      `sdk_send.js sends identify, track, page, screen, group and alias calls: ${[...types]}`);

    const nats = await startNats([]);
    seen = await watch(nats.url, true);
    const serve = await startServe(nats.url, ['--memory-state']);
    const ingest = await startIngest(nats.url, []);
    if (failures.length) return;
    // Core NATS keeps nothing: make sure serve is subscribed before the real traffic.
    let warm = 0;
    const ready = await until(async () => {
      const customer = `warmup-${STAMP}-${++warm}`;
      await post(ingest.url, 'track', purchase(customer));
      return (await decisionsOf(seen, isThanksSentTo(customer), 1, 500)).length === 1;
    }, 15000, 0);
    if (!check(ready, `a purchase through ingest and serve is decided (after ${warm} tries)`, tail(serve.child))) return;

    await sdkRun(seen, ingest.url, 'segment', KEYS[0], `seg-${STAMP}`);
    await sdkRun(seen, ingest.url, 'rudderstack', KEYS[1], `rud-${STAMP}`);
    const mixed = seen.decisions.filter((d) => d.customer === '4242' && d.channel);
    check(mixed.length === 2 && mixed[0].cause !== mixed[1].cause,
      'the customer "4242" of both runs: two sends, caused by the two SDKs\' messages', mixed.length);
    const groupAlias = await until(async () => (await metric(serve.metricsUrl, IGNORED_GROUP_ALIAS)) === 4, 5000);
    check(groupAlias, `${IGNORED_GROUP_ALIAS} = 4 after both runs`, await metric(serve.metricsUrl, IGNORED_GROUP_ALIAS));

    await rawChecks(seen, ingest.url, serve.metricsUrl);

    const undeclared = await metric(serve.metricsUrl, 'juncture_messages_ignored_total{reason="undeclared_event"}');
    check(undeclared === 0, 'no message is ignored as an undeclared event', undeclared);
    const total = await until(async () => {
      const n = await metric(serve.metricsUrl, 'juncture_messages_total');
      return n === seen.events.length ? n : null;
    }, 5000);
    check(total !== null, `serve took every message the ingest published (juncture_messages_total = ${seen.events.length})`,
      await metric(serve.metricsUrl, 'juncture_messages_total'));
    check(seen.deadLetters.length === 0, 'no dead letter on juncture.deadletter',
      seen.deadLetters.map((l) => `${l.reason}: ${l.body}`).join(' '));
    const unparsed = seen.decisions.filter((d) => d.unparsed !== undefined);
    check(unparsed.length === 0, 'every decision on NATS is JSON', unparsed.map((d) => d.unparsed).join(' '));
    for (const child of [ingest.child, serve.child]) {
      const end = await stop(child);
      check(end.code === 0, `${child.name.replace(/-\d+$/, '')} exits 0 on SIGTERM`, `${end.code} ${end.signal}`);
    }
    await seen.nc.close();
    seen = null;

    await jetStreamChecks();
  } finally {
    if (seen) await seen.nc.close().catch(() => {});
    for (const child of children.slice().reverse()) await stop(child);
    if (failures.length) {
      for (const child of children) console.log(`--- ${child.name} log:\n${tail(child)}`);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  check(false, 'the test ran to its end', e && e.stack || e);
}).finally(() => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length) {
    console.log(`${failures.length} of ${passed + failures.length} checks failed (${seconds} s)`);
    process.exit(1);
  }
  console.log(`all ${passed} checks passed (${seconds} s)`);
  process.exit(0);
});
