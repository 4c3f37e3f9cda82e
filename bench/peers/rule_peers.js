// The eligibility rule of bench/rule_bench.cc in three JavaScript rule engines, over
// the same inputs in the same order:
//
//   event.cart_value >= 50 and profile.country in ["US", "CA", "GB"]
//     and profile.email_opt_in and profile.tier == "gold"
//
// Peers (versions pinned in package.json): json-rules-engine (async: every evaluation
// is one awaited engine.run(facts), one after another; measured twice, with `event`
// and `profile` facts read by JSONPath, and with flat facts), json-logic-js
// (jsonLogic.apply), @marcbachmann/cel-js (parsed once, the compiled expression
// called per input). Each is given its fast path: rules and expressions are built
// once, inputs are prebuilt objects (as the C++ side prebuilds records), and
// json-rules-engine's conditions carry descending priorities so that `all` stops at
// the first failing clause, as the others do.
//
// Inputs: 5 cart values x 20 profiles = 100 (event, profile) pairs, 9 matching; a
// cyclic sequence of pairs drawn with xorshift32 (seed 2463534242), each position a
// matching pair with probability 1/2 (exactly as rule_bench.cc draws it), for cycle
// lengths 4096 and 65536.
//
// Method: every engine is checked against the expected result on all 100 pairs, then
// warmed up (JIT tiers settle), then timed over RUNS runs of N evaluations each
// (process.hrtime.bigint around the whole run); reported: the median, min and max
// ns/eval over the runs. Output: one JSON object per line (peer, cycle, median_ns,
// min_ns, max_ns, runs, n, match_rate, version).
//
// usage: node rule_peers.js [--quick]
'use strict'

const path = require('path')
const fs = require('fs')

const QUICK = process.argv.includes('--quick')
const RUNS = QUICK ? 3 : 7
const CYCLES = [4096, 65536]

// ---- Inputs (keep in step with rule_bench.cc) ------------------------------------
const CART_VALUES = [120.0, 75.5, 50.0, 49.99, 20.0]
const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE']
const OPT_INS = [true, false]
const TIERS = ['gold', 'silver']
const SEED = 2463534242

const PROFILES = []
for (const country of COUNTRIES) {
  for (const opt of OPT_INS) {
    for (const tier of TIERS) PROFILES.push({ country, email_opt_in: opt, tier })
  }
}

function expected (value, p) {
  return value >= 50 && ['US', 'CA', 'GB'].includes(p.country) && p.email_opt_in && p.tier === 'gold'
}

// Pair k is (CART_VALUES[k / 20], PROFILES[k % 20]).
const PAIRS = []
for (let k = 0; k < CART_VALUES.length * PROFILES.length; ++k) {
  const event = { cart_value: CART_VALUES[Math.floor(k / PROFILES.length)] }
  const profile = PROFILES[k % PROFILES.length]
  PAIRS.push({ event, profile, expected: expected(event.cart_value, profile) })
}

function sequence (length) {
  const match = []
  const miss = []
  PAIRS.forEach((p, k) => (p.expected ? match : miss).push(k))
  let s = SEED >>> 0
  const next = () => {
    s = (s ^ (s << 13)) >>> 0
    s = (s ^ (s >>> 17)) >>> 0
    s = (s ^ (s << 5)) >>> 0
    return s
  }
  const seq = new Uint8Array(length)
  for (let i = 0; i < length; ++i) {
    const from = (next() & 1) ? match : miss
    seq[i] = from[next() % from.length]
  }
  return seq
}

function version (name) {
  const file = path.join(__dirname, 'node_modules', name, 'package.json')
  return JSON.parse(fs.readFileSync(file, 'utf8')).version
}

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

// ---- Timing ---------------------------------------------------------------------------

// Synchronous peers: evalOne(pairIndex) -> boolean.
function timeSync (evalOne, seq, n) {
  const mask = seq.length - 1
  let matched = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; ++i) if (evalOne(seq[i & mask])) ++matched
  const ns = Number(process.hrtime.bigint() - t0)
  return { ns, matched }
}

// Asynchronous peers: evalOne(pairIndex) -> Promise<boolean>, awaited one by one.
async function timeAsync (evalOne, seq, n) {
  const mask = seq.length - 1
  let matched = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; ++i) if (await evalOne(seq[i & mask])) ++matched
  const ns = Number(process.hrtime.bigint() - t0)
  return { ns, matched }
}

async function measure (peer, evalOne, isAsync, n) {
  // Correctness first: every pair.
  for (let k = 0; k < PAIRS.length; ++k) {
    const got = isAsync ? await evalOne(k) : evalOne(k)
    if (Boolean(got) !== PAIRS[k].expected) {
      throw new Error(`${peer.name} disagrees on pair ${k}: ${got} != ${PAIRS[k].expected}`)
    }
  }
  const timer = isAsync ? timeAsync : timeSync
  for (const cycle of CYCLES) {
    const seq = sequence(cycle)
    await timer(evalOne, seq, n * 2)  // warm-up
    const perEval = []
    let matched = 0
    for (let r = 0; r < RUNS; ++r) {
      const t = await timer(evalOne, seq, n)
      perEval.push(t.ns / n)
      matched = t.matched
    }
    console.log(JSON.stringify({
      peer: peer.name,
      version: peer.version,
      cycle,
      median_ns: +median(perEval).toFixed(2),
      min_ns: +Math.min(...perEval).toFixed(2),
      max_ns: +Math.max(...perEval).toFixed(2),
      runs: RUNS,
      n,
      match_rate: +(matched / n).toFixed(4)
    }))
  }
}

// ---- The peers ------------------------------------------------------------------------

async function main () {
  const scale = QUICK ? 8 : 1

  // json-logic-js: the rule as JSON data, applied per input.
  {
    const jsonLogic = require('json-logic-js')
    const rule = {
      and: [
        { '>=': [{ var: 'event.cart_value' }, 50] },
        { in: [{ var: 'profile.country' }, ['US', 'CA', 'GB']] },
        { var: 'profile.email_opt_in' },
        { '===': [{ var: 'profile.tier' }, 'gold'] }
      ]
    }
    const data = PAIRS.map(p => ({ event: p.event, profile: p.profile }))
    await measure({ name: 'json-logic-js', version: version('json-logic-js') },
      k => jsonLogic.truthy(jsonLogic.apply(rule, data[k])), false, (1 << 20) / scale)
  }

  // @marcbachmann/cel-js: parsed (and type-checked) once; the compiled expression is
  // called per input. CEL has no implicit int/double mix, hence 50.0.
  {
    const cel = await import('@marcbachmann/cel-js')
    const env = new cel.Environment()
      .registerVariable('event', 'map')
      .registerVariable('profile', 'map')
    const expr = env.parse(
      'event.cart_value >= 50.0 && profile.country in ["US", "CA", "GB"] && ' +
      'profile.email_opt_in && profile.tier == "gold"')
    const data = PAIRS.map(p => ({ event: p.event, profile: p.profile }))
    await measure({ name: '@marcbachmann/cel-js', version: version('@marcbachmann/cel-js') },
      k => expr(data[k]) === true, false, (1 << 20) / scale)
  }

  // json-rules-engine: one rule, two facts (event and profile objects, read by path);
  // each evaluation is an awaited engine.run(facts). Descending condition priorities
  // make `all` stop at the first failing condition.
  {
    const { Engine } = require('json-rules-engine')
    const engine = new Engine([], { allowUndefinedFacts: true })
    engine.addRule({
      name: 'eligible',
      conditions: {
        all: [
          { fact: 'event', path: '$.cart_value', operator: 'greaterThanInclusive', value: 50, priority: 4 },
          { fact: 'profile', path: '$.country', operator: 'in', value: ['US', 'CA', 'GB'], priority: 3 },
          { fact: 'profile', path: '$.email_opt_in', operator: 'equal', value: true, priority: 2 },
          { fact: 'profile', path: '$.tier', operator: 'equal', value: 'gold', priority: 1 }
        ]
      },
      event: { type: 'eligible' }
    })
    const facts = PAIRS.map(p => ({ event: p.event, profile: p.profile }))
    await measure({ name: 'json-rules-engine', version: version('json-rules-engine') },
      async k => (await engine.run(facts[k])).events.length > 0, true, (1 << 15) / scale)
  }

  // json-rules-engine again with the four values as flat facts (no JSONPath): its
  // fastest shape for this rule, though the record is then flattened by the caller.
  {
    const { Engine } = require('json-rules-engine')
    const engine = new Engine([], { allowUndefinedFacts: true })
    engine.addRule({
      name: 'eligible',
      conditions: {
        all: [
          { fact: 'cart_value', operator: 'greaterThanInclusive', value: 50, priority: 4 },
          { fact: 'country', operator: 'in', value: ['US', 'CA', 'GB'], priority: 3 },
          { fact: 'email_opt_in', operator: 'equal', value: true, priority: 2 },
          { fact: 'tier', operator: 'equal', value: 'gold', priority: 1 }
        ]
      },
      event: { type: 'eligible' }
    })
    const facts = PAIRS.map(p => ({ cart_value: p.event.cart_value, ...p.profile }))
    await measure({ name: 'json-rules-engine (flat facts)', version: version('json-rules-engine') },
      async k => (await engine.run(facts[k])).events.length > 0, true, (1 << 15) / scale)
  }
}

main().catch(e => {
  console.error(e)
  process.exit(1)
})
