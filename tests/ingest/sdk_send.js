// Feeds `juncture ingest` with a REAL Segment-protocol SDK: sends one fixed sequence of calls
// (identify, track, page, screen, group, alias, track with a numeric userId, anonymous track)
// through @segment/analytics-node or @rudderstack/rudder-sdk-node, flushes, and exits 0 only if
// the SDK reports every message delivered; otherwise 1, with a "sdk_send: ..." line on stderr.
//
// usage: node sdk_send.js --url http://127.0.0.1:PORT --write-key KEY --sdk segment|rudderstack --run-id RID [--print]
//   --print  sends nothing: prints the JSON list of calls ({type, customer, event|name, ...}) to stdout.
//
// Both SDKs POST every call to URL/v1/batch with `Authorization: Basic base64(KEY + ":")`.
// What they do on the wire, and bounds that keep a failing run from hanging:
//   segment:     JSON body, no gzip. 2xx/3xx = delivered; 400 and other 4xx (but 408/410/429/460)
//                fail at once; 5xx (but 501/505/511), timeouts and network errors are retried:
//                maxRetries 2 here (default 10), backoff 1-2 s then 2-4 s; each request times out
//                after 5 s; closeAndFlush gives up (failing the undelivered calls) after 20 s.
//   rudderstack: gzipped JSON (the SDK's default `gzip: true`: Content-Encoding: gzip, but axios
//                labels the Buffer Content-Type: application/x-www-form-urlencoded). 2xx = delivered;
//                5xx, 429 and network errors (not timeouts) are retried: retryCount 2 here
//                (default 3), backoff ~0.2 s then ~0.4 s; each request times out after 5 s.
//   Whatever happens, the script stops after 30 s with exit 1.
// Numeric userId: analytics-node refuses it (its validation throws ".userId/... is not a string"),
// so 4242 goes as the string "4242"; rudder-sdk-node accepts the number and sends it as "4242".
'use strict';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--print') args.print = true;
  else if (a.startsWith('--') && i + 1 < process.argv.length) args[a.slice(2)] = process.argv[++i];
  else fail(`unknown argument ${a}`);
}
function fail(msg) {
  process.stderr.write(`sdk_send: ${msg}\n`);
  process.exit(1);
}
if (!args['run-id']) fail('--run-id is required');
if (!args.print && !(args.url && args['write-key'] && ['segment', 'rudderstack'].includes(args.sdk)))
  fail('usage: --url URL --write-key KEY --sdk segment|rudderstack --run-id RID [--print]');

const rid = args['run-id'];
const u1 = `${rid}-u1`;
// The fixed sequence: [method, message]. Both SDKs take the same message shapes.
const calls = [
  ['identify', { userId: u1, traits: { email: 'u1@example.com', plan: 'pro', email_opt_in: true, country: 'US' } }],
  ['track', { userId: u1, event: 'cart_updated', properties: { cart_value: 120.5, currency: 'USD' } }],
  ['page', { userId: u1, name: 'Pricing', category: 'Docs',
    properties: { path: '/pricing', url: 'https://shop.example/pricing', title: 'Pricing' } }],
  ['screen', { userId: `${rid}-u2`, name: 'Checkout', properties: { step: 2 } }],
  ['group', { userId: u1, groupId: 'acme', traits: { name: 'Acme' } }],
  ['alias', { userId: u1, previousId: `${rid}-anon-1` }],
  ['track', { userId: 4242, event: 'cart_updated', properties: { cart_value: 10, currency: 'EUR' } }],
  ['track', { anonymousId: `${rid}-anon-2`, event: 'purchase', properties: { amount: 99.0, order_id: 'o-1' } }],
];

if (args.print) {
  const list = calls.map(([type, m]) => {
    const c = { type, customer: String(m.userId ?? m.anonymousId) };
    if (m.event) c.event = m.event;
    if (m.name) c.name = m.name;
    if (m.groupId) c.groupId = m.groupId;
    if (m.previousId) c.previousId = m.previousId;
    return c;
  });
  process.stdout.write(JSON.stringify(list) + '\n');
  process.exit(0);
}

setTimeout(() => fail('gave up after 30 s: the SDK did not report every call'), 30000).unref();

let failures = 0;
// Each call's delivery, as a promise that resolves (never rejects) once its SDK callback fired.
function send(method, invoke, message) {
  return new Promise((resolve) => {
    invoke(message, (err) => {
      if (err) {
        failures++;
        process.stderr.write(`sdk_send: ${args.sdk} ${method} not delivered: ${err.message || err}\n`);
      }
      resolve();
    });
  });
}

async function main() {
  const delivered = [];
  if (args.sdk === 'segment') {
    const { Analytics } = require('@segment/analytics-node');
    const analytics = new Analytics({
      writeKey: args['write-key'], host: args.url, flushAt: 50, flushInterval: 1000,
      maxRetries: 2, httpRequestTimeout: 5000,
    });
    for (const [method, m] of calls) {
      let message = m;
      if (typeof m.userId === 'number') message = { ...m, userId: String(m.userId) }; // refused as a number
      delivered.push(send(method, analytics[method], message));
    }
    await analytics.closeAndFlush({ timeout: 20000 });
  } else {
    const Analytics = require('@rudderstack/rudder-sdk-node');
    const analytics = new Analytics(args['write-key'], {
      dataPlaneUrl: args.url, flushAt: 50, flushInterval: 1000, retryCount: 2, timeout: 5000,
      logLevel: 'error',
      errorHandler: () => {}, // failures reach each call's callback; without it a failed flush is an unhandled rejection
    });
    for (const [method, m] of calls) delivered.push(send(method, analytics[method].bind(analytics), m));
    await analytics.flush();
  }
  await Promise.all(delivered);
  if (failures) fail(`${failures} of ${calls.length} calls not delivered by ${args.sdk}`);
  process.exit(0);
}
main().catch((e) => fail(`${args.sdk}: ${e.stack || e}`));
