// The alternative a team would build instead of `juncture serve`, for the load test
// (bench/load/run.sh --peer): a Node.js service with the official `nats` client and
// json-rules-engine, deciding the entry rules of bench/load/program's journeys.
//
// What it does per message, like serve on the same program:
//   - identify: keeps the customer's traits (the profile), defaults as in schema.jny;
//   - track load_tick / load_purchase: updates the customer's windows (load_tick times
//     over the last minute, load_purchase amounts over 7 days), then runs one
//     json-rules-engine Engine holding each journey's trigger condition and
//     eligibility as a rule (segments inlined) over the facts event, profile and
//     windows; for each journey whose rule holds, applies its re-entry rule and, for
//     the one that sends at once (load_echo), publishes the action
//     {"id","cause","customer","journey","channel","template","params"} to
//     juncture.actions.<channel>, as serve does. decoy_waiter keeps one instance per
//     customer (entered once, waiting a day), so a tick finds the customer in it.
//   - guardrails of the decoys' email channel (consent, quiet hours, cap) are not
//     modelled: no decoy reaches a send during a run.
// Messages are handled one at a time, in order (each rule evaluation is awaited), as
// one serve engine does.
//
// usage: node journey_service.js --nats nats://127.0.0.1:4222
'use strict'

const { connect, StringCodec } = require('nats')
const { Engine } = require('json-rules-engine')

const args = process.argv.slice(2)
const url = args[args.indexOf('--nats') + 1] || 'nats://127.0.0.1:4222'

const DAY_MS = 24 * 3600 * 1000
const LOAD_CUSTOMERS = { all: [
  { fact: 'profile', path: '$.load_opt_in', operator: 'equal', value: true },
  { fact: 'profile', path: '$.country', operator: 'in', value: ['US', 'CA', 'GB'] }
] }
const HIGH_VALUE = { any: [
  { fact: 'profile', path: '$.lifetime_value', operator: 'greaterThanInclusive', value: 500 },
  { fact: 'profile', path: '$.tier', operator: 'in', value: ['gold', 'platinum'] }
] }
const onTick = { fact: 'event', path: '$.event', operator: 'equal', value: 'load_tick' }
const onPurchase = { fact: 'event', path: '$.event', operator: 'equal', value: 'load_purchase' }

// One rule per journey: its trigger (event and condition) and eligibility. The
// journey's name is the rule's event type; re-entry is applied after the rules.
const JOURNEYS = [
  { name: 'load_echo', reenter: 'always', send: { channel: 'load', template: 'tick' },
    conditions: { all: [onTick, LOAD_CUSTOMERS] } },
  { name: 'decoy_big_value', reenter: 'always',
    conditions: { all: [onTick, { fact: 'event', path: '$.properties.value', operator: 'greaterThanInclusive', value: 1000 }, LOAD_CUSTOMERS] } },
  { name: 'decoy_high_value', reenter: 'always',
    conditions: { all: [onTick, { fact: 'path_starts_with_load', operator: 'equal', value: true }, HIGH_VALUE, LOAD_CUSTOMERS] } },
  { name: 'decoy_burst', reenter: 'always',
    conditions: { all: [onTick, { fact: 'windows', path: '$.ticks_1m', operator: 'greaterThan', value: 10000 }] } },
  { name: 'decoy_spender', reenter: 'after_1d',
    conditions: { all: [onTick, { fact: 'windows', path: '$.purchases_7d', operator: 'greaterThan', value: 1000 }, LOAD_CUSTOMERS] } },
  { name: 'decoy_tagged', reenter: 'always',
    conditions: { all: [onTick, { fact: 'event', path: '$.properties.tag', operator: 'equal', value: 'promo' }] } },
  { name: 'decoy_europe', reenter: 'always',
    conditions: { all: [onTick,
      { fact: 'profile', path: '$.country', operator: 'in', value: ['DE', 'FR', 'ES', 'IT'] },
      { fact: 'profile', path: '$.load_opt_in', operator: 'equal', value: true }] } },
  { name: 'decoy_purchase', reenter: 'always',
    conditions: { all: [onPurchase, { fact: 'event', path: '$.properties.amount', operator: 'greaterThan', value: 50 }] } },
  { name: 'decoy_waiter', reenter: 'never_while_active',
    conditions: { all: [onTick, LOAD_CUSTOMERS] } }
]

const engine = new Engine([], { allowUndefinedFacts: true })
JOURNEYS.forEach((j, i) => {
  engine.addRule({ name: j.name, priority: JOURNEYS.length - i, conditions: j.conditions, event: { type: j.name } })
})

const DEFAULT_PROFILE = { country: '', tier: 'standard', lifetime_value: 0, load_opt_in: false, email_opt_in: false, timezone: 'UTC' }
const customers = new Map() // id -> { profile, ticks: [ms], purchases: [[ms, amount]], lastEntry: {journey: ms}, waiting: bool }

function customer (id) {
  let c = customers.get(id)
  if (!c) {
    c = { profile: { ...DEFAULT_PROFILE }, ticks: [], purchases: [], lastEntry: {}, waiting: false }
    customers.set(id, c)
  }
  return c
}

async function main () {
  const nc = await connect({ servers: url, name: 'journey-service-peer' })
  const sc = StringCodec()
  const sub = nc.subscribe('juncture.events.>')
  console.error(`journey_service: deciding on juncture.events.> from ${url}`)
  for await (const m of sub) {
    let msg
    try {
      msg = JSON.parse(sc.decode(m.data))
    } catch (e) {
      nc.publish('juncture.deadletter', m.data)
      continue
    }
    const id = msg.userId || msg.anonymousId
    if (typeof id !== 'string') continue
    const c = customer(id)
    const now = Date.now()
    if (msg.type === 'identify') {
      Object.assign(c.profile, msg.traits || {})
      continue
    }
    if (msg.type !== 'track') continue
    const props = msg.properties || {}
    if (msg.event === 'load_tick') {
      c.ticks.push(now)
      while (c.ticks.length && c.ticks[0] < now - 60 * 1000) c.ticks.shift()
    } else if (msg.event === 'load_purchase') {
      c.purchases.push([now, Number(props.amount) || 0])
      while (c.purchases.length && c.purchases[0][0] < now - 7 * DAY_MS) c.purchases.shift()
    }
    const facts = {
      event: msg,
      profile: c.profile,
      windows: { ticks_1m: c.ticks.length, purchases_7d: c.purchases.reduce((s, p) => s + p[1], 0) },
      path_starts_with_load: typeof props.path === 'string' && props.path.startsWith('/load')
    }
    const { events } = await engine.run(facts)
    for (const e of events) {
      const j = JOURNEYS.find((x) => x.name === e.type)
      if (j.reenter === 'after_1d' && now - (c.lastEntry[j.name] || -Infinity) < DAY_MS) continue
      if (j.reenter === 'never_while_active') {
        if (c.waiting) continue
        c.waiting = true // waits a day for a purchase: nothing resumes it during a run
      }
      c.lastEntry[j.name] = now
      if (!j.send) continue
      const action = {
        id: `${msg.messageId}:${j.name}:s1`,
        cause: msg.messageId,
        customer: id,
        journey: j.name,
        channel: j.send.channel,
        template: j.send.template,
        params: { seq: props.seq, value: props.value, path: props.path }
      }
      nc.publish(`juncture.actions.${j.send.channel}`, sc.encode(JSON.stringify(action)))
    }
  }
}

main().catch((e) => {
  console.error(`journey_service: ${e.message}`)
  process.exit(1)
})
