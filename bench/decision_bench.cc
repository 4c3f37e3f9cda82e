// Whole decisions, in process: JSON bytes in, decisions out (Engine::Process with a
// sink that only counts), with 10, 100 and 1000 journeys loaded, on both back ends;
// and the compile time of those programs.
//
// The program (generated below; print it with --print-program N):
//   - 20 event types with 5-6 fields each, a 7-field profile, 5 channels with consent,
//     caps and quiet hours (local time), two segments.
//   - 10 "core" journeys, identical in every size: 5 triggered by cart_updated, 5 by
//     purchase. They use eligibility, segments, `in` lists, optional fields, windows
//     (count, sum), waits, `wait until` (cart_updated and purchase resume them),
//     if/else, splits, params, re-entry rules and exits.
//   - N - 10 "filler" journeys of four shapes (eligibility + send; wait + branch;
//     wait until + control; split), each triggered by one of the 18 other event types
//     and waiting for / exiting on those types only.
// The message stream has only cart_updated (80%) and purchase (20%) tracks, so every
// message triggers the SAME 5 journeys whatever the size: a difference between sizes
// is the cost of merely having journeys loaded.
//
// Stream: 200,000 tracks over 10,000 customers (round robin: a customer every 100 s of
// virtual time), 10 ms of virtual time apart (33 min in all, so 5/10/20 minute waits
// fire during the stream and their timers are part of the measured Process calls).
// Before timing, each customer gets an identify (country, tier, opt-ins, time zone,
// lifetime value); those are not timed.
//
// Measures, per (size, back end), each repeated REPS times with a fresh engine:
//   - latency: steady_clock around every Process call, recorded into a histogram of
//     1 ns buckets up to 100 us (exact values above); p50, p99, p99.9, max;
//   - throughput: a second fresh engine runs the same stream with no per-message
//     clock reads; messages/s = messages / wall time of the whole loop (one thread).
// Reported: the median over the repetitions of each figure (after one untimed warm-up
// run; the repetitions go round robin over the configurations). Compile time:
// CompileSources (parse, check, lower), then MakeInterpretedProgram, MakeJitProgram at
// O0 and at O2, medians of REPS runs (the JITs are created beforehand and kept, so
// their one-time creation is reported apart).
// --memory: customers' state (1M customers by default, 10 journeys): RSS growth per
// customer after one identify and one cart_updated each.
// --hot-customer [N]: what a window costs when one customer has many events in it:
// N page views (50,000 by default, 1 ms of virtual time apart, all within a 1-day
// window) for one customer, against the same N spread over N customers, for a
// journey reading count(page_view within 1d), then one reading each of
// sum(page_view.ms within 1d), count(page_view within 1d where event.ms > 500),
// sum(page_view.score within 1d) (a float) and sum(page_view.ms within 5s) (events
// leave as fast as they come) (JIT; no condition ever holds). The events beyond the
// default bound of 10,000 per customer leave the 1-day windows too. Reported: ns per
// message (median of --reps runs) and the ratio hot / spread.
// --live-reload [N]: a hot reload of the N-journey program (1000 by default) through
// StageProgram while the engine decides at 100,000 messages/s: when each form
// (interpreter, JIT O0, JIT O2) takes over, and the Process latency meanwhile.
//
// usage: decision_bench [--messages N] [--customers N] [--reps N] [--sizes 10,100,1000]
//                       [--only-latency | --only-compile] [--backend jit|interpreter]
//                       [--memory [CUSTOMERS]] [--hot-customer [N]] [--live-reload [N]]
//                       [--print-program N]
// Output: markdown tables on stdout; one JSON line per measurement, prefixed "RAW ".
// Profiling the measured loops only (bench/run.sh --profile does this):
//   mkfifo /tmp/ctl; DECISION_BENCH_PERF_CTL=/tmp/ctl perf record --control fifo:/tmp/ctl
//     -D -1 -e cpu-clock -g decision_bench --only-latency --backend jit --sizes 100 --reps 1
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string>
#include <thread>
#include <vector>

#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"

namespace {

using namespace juncture;
using Clock = std::chrono::steady_clock;

// ---- The program ------------------------------------------------------------------------

const char* const kEvents[20] = {
    "cart_updated", "purchase", "page_view", "product_viewed", "checkout_started",
    "signup", "app_open", "email_opened", "email_clicked", "push_opened",
    "search", "wishlist_added", "price_dropped", "review_submitted", "support_ticket",
    "subscription_changed", "login", "referral_sent", "trial_started", "unsubscribed"};

constexpr int kCore = 10;

std::string Declarations() {
  std::string p = R"(
profile {
  country:        string = ""
  tier:           string = "standard"
  email_opt_in:   bool   = false
  push_opt_in:    bool   = false
  sms_opt_in:     bool   = false
  timezone:       string = "UTC"
  lifetime_value: float  = 0
}
channel email   { consent profile.email_opt_in  quiet 22:00 .. 07:00 local  cap 3 per 1d }
channel push    { consent profile.push_opt_in   cap 5 per 1d }
channel sms     { consent profile.sms_opt_in    quiet 21:00 .. 08:00 local drop  cap 1 per 1d }
channel in_app  { }
channel webhook { }
segment marketable = profile.email_opt_in or profile.push_opt_in
segment high_value = profile.lifetime_value >= 500 or profile.tier == "gold"
const MIN_CART = 40.0
)";
  for (const char* e : kEvents) {
    p += std::string("event ") + e +
         " {\n  value: float = 0\n  sku: string = \"\"\n  category: string = \"\"\n"
         "  items: int = 0\n  order_id: string = \"\"\n  coupon: string?\n}\n";
  }
  return p;
}

// The 10 journeys every size has; the stream triggers 5 of them per message.
std::string CoreJourneys() {
  return R"(
journey cart_rescue {
  priority 10
  on cart_updated when event.value >= MIN_CART and event.items > 0
  eligible marketable and profile.country in ["US", "CA", "GB"]
  reenter after 1h
  exit on purchase
  wait 10m
  if count(cart_updated within 30m) > 2 or high_value {
    send email "cart_reminder_personal" { value: round(event.value), discount: 10% }
  } else {
    send email "cart_reminder" { items: event.items }
  }
  wait until purchase within 1h {
    send email "thank_you" { order: event.order_id }
  } else {
    send sms "cart_last_call" { sku: upper(event.sku) }
  }
}
journey big_cart {
  priority 8
  on cart_updated when event.value >= 100
  eligible high_value and profile.push_opt_in
  reenter always
  send push "big_cart" { value: round(event.value), tier: profile.tier }
}
journey category_promo {
  priority 5
  on cart_updated when event.category in ["shoes", "bags", "watches"]
  reenter after 30m
  split {
    50%: send in_app "promo_a" { category: event.category }
    50%: send in_app "promo_b" { category: event.category }
  }
}
journey coupon_audit {
  priority 1
  on cart_updated when has(event.coupon)
  reenter always
  send webhook "coupon_audit" { coupon: event.coupon ?? "", value: event.value }
}
journey browse_more {
  priority 3
  on cart_updated when event.value < MIN_CART
  eligible profile.email_opt_in
  reenter after 2h
  wait 5m
  send email "browse_more" { sku: event.sku }
}
journey receipt {
  priority 9
  on purchase when event.value > 0
  reenter always
  send webhook "receipt" { order: event.order_id, total: event.value }
}
journey vip_thanks {
  priority 7
  on purchase when event.value >= 200
  eligible profile.tier == "gold" or profile.lifetime_value >= 1000
  reenter always
  send push "vip_thanks" { order: event.order_id }
}
journey review_request {
  priority 2
  on purchase
  eligible marketable
  reenter after 1d
  wait 20m
  send email "review_request" { order: event.order_id }
}
journey cross_sell {
  priority 4
  on purchase when event.category == "shoes"
  reenter after 1h
  wait until cart_updated within 30m {
    send in_app "socks" { cart: event.value }
  } else {
    send push "socks_reminder"
  }
}
journey high_spender {
  priority 6
  on purchase when sum(purchase.value within 1d) >= 500
  reenter after 1d
  send webhook "high_spender" { total: sum(purchase.value within 1d), country: profile.country }
}
)";
}

// Filler journey k (0-based): triggered by, waiting for and exiting on event types
// 2..19 only (never in the stream).
std::string Filler(int k) {
  const char* channels[] = {"email", "push", "sms", "in_app", "webhook"};
  std::string on = kEvents[2 + k % 18];
  std::string other = kEvents[2 + (k + 7) % 18];
  std::string name = std::string("f") + std::to_string(k) + "_" + on;
  std::string ch = channels[k % 5];
  std::string t = std::to_string(k);
  std::string prio = std::to_string(k % 11);
  switch (k % 4) {
    case 0:
      return std::string("journey ") + name + " {\n  priority " + prio + "\n  on " + on +
             " when event.value >= " + std::to_string(k % 90) +
             " and profile.country in [\"US\", \"CA\", \"GB\", \"DE\"]\n"
             "  eligible marketable\n  reenter after 1d\n  exit on unsubscribed\n"
             "  send " + ch + " \"t" + t + "\" { v: event.value, tier: profile.tier }\n}\n";
    case 1:
      return std::string("journey ") + name + " {\n  priority " + prio + "\n  on " + on +
             " when event.category == \"c" + std::to_string(k % 13) +
             "\"\n"
             "  reenter after 12h\n  exit on " + other + "\n  wait 1h\n"
             "  if profile.tier == \"gold\" {\n    send push \"p" + t +
             "\" { sku: event.sku }\n  } else {\n    send email \"e" + t + "\"\n  }\n}\n";
    case 2:
      return std::string("journey ") + name + " {\n  priority " + prio + "\n  on " + on +
             " when event.sku starts_with \"SKU-" + std::to_string(k % 10) + "\"\n"
             "  eligible high_value\n  reenter never\n"
             "  wait until " + other + " within 2d {\n    send " + ch + " \"w" + t +
             "\" { items: event.items }\n  } else {\n    control\n  }\n}\n";
    default:
      return std::string("journey ") + name + " {\n  priority " + prio + "\n  on " + on +
             " when count(" + on + " within 1d) >= 2\n  reenter after 7d\n"
             "  split {\n    30%: send " + ch + " \"a" + t + "\"\n    30%: send " + ch +
             " \"b" + t + "\" { v: event.value }\n    40%: control\n  }\n}\n";
  }
}

std::string Program(int journeys) {
  std::string p = Declarations() + CoreJourneys();
  for (int k = 0; k < journeys - kCore; ++k) p += Filler(k);
  return p;
}

std::unique_ptr<compiler::Compilation> Compile(const std::string& src) {
  auto c = compiler::CompileSources({{"bench.jny", src}}, compiler::CompileOptions{});
  if (!c->ok()) {
    std::fprintf(stderr, "%s", c->FormatDiagnostics(compiler::DiagnosticFormat::kText).c_str());
    std::exit(1);
  }
  return c;
}

runtime::CompiledProgram Backend(const compiler::Compilation& c, const std::string& backend,
                                 int opt_level = 2) {
  if (backend == "interpreter") return *compiler::MakeInterpretedProgram(c);
  Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(c, opt_level);
  if (!p.ok()) {
    std::fprintf(stderr, "decision_bench: JIT: %s\n", p.status().message().c_str());
    std::exit(1);
  }
  return *std::move(p);
}

// ---- Messages ---------------------------------------------------------------------------

uint32_t XorShift32(uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

constexpr int64_t kSpacingUs = 10000;  // 10 ms of virtual time between messages

// 2026-10-01T12:00:00Z: noon UTC, so local quiet hours apply to some time zones.
int64_t StartUs() {
  static const int64_t start = [] {
    int64_t us = 0;
    runtime::ParseTimestamp("2026-10-01T12:00:00Z", us);
    return us;
  }();
  return start;
}

std::string Identify(int u) {
  const char* countries[] = {"US", "CA", "GB", "DE", "FR", "US", "US", "GB"};
  const char* tiers[] = {"standard", "silver", "gold", "standard", "standard"};
  const char* zones[] = {"UTC", "America/New_York", "Europe/London", "America/Los_Angeles",
                         "Europe/Berlin", "Asia/Tokyo"};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"type\":\"identify\",\"messageId\":\"id-%d\",\"userId\":\"customer-%06d\","
                "\"timestamp\":\"2026-10-01T11:00:00.000Z\",\"traits\":{\"country\":\"%s\","
                "\"tier\":\"%s\",\"email_opt_in\":%s,\"push_opt_in\":%s,\"sms_opt_in\":%s,"
                "\"timezone\":\"%s\",\"lifetime_value\":%d,\"first_name\":\"Ada\"}}",
                u, u, countries[u % 8], tiers[u % 5], u % 7 ? "true" : "false",
                u % 3 ? "true" : "false", u % 4 == 0 ? "true" : "false", zones[u % 6],
                (u * 37) % 1500);
  return buf;
}

std::vector<std::string> Stream(int messages, int customers) {
  const char* categories[] = {"shoes", "bags", "shirts", "watches", "books", "toys", "garden"};
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(messages));
  uint32_t s = 2463534242u;
  for (int i = 0; i < messages; ++i) {
    int u = i % customers;
    bool purchase = XorShift32(s) % 5 == 0;
    uint32_t r = XorShift32(s);
    double value = static_cast<double>(r % 30000) / 100.0;  // 0 .. 299.99
    int items = static_cast<int>(r % 7);
    std::string ts = runtime::FormatTimestamp(StartUs() + int64_t{i} * kSpacingUs);
    char buf[768];
    if (purchase) {
      std::snprintf(buf, sizeof buf,
                    "{\"type\":\"track\",\"event\":\"purchase\",\"messageId\":\"msg-%d\","
                    "\"userId\":\"customer-%06d\",\"timestamp\":\"%s\",\"context\":{\"ip\":"
                    "\"203.0.113.7\",\"library\":{\"name\":\"analytics.js\",\"version\":\"4.1.0\"}},"
                    "\"properties\":{\"value\":%.2f,\"order_id\":\"ord-%d\",\"category\":\"%s\","
                    "\"items\":%d,\"currency\":\"USD\"}}",
                    i, u, ts.c_str(), value * 2, i, categories[r % 7], items + 1);
    } else {
      bool coupon = (r >> 8) % 10 == 0;
      std::snprintf(buf, sizeof buf,
                    "{\"type\":\"track\",\"event\":\"cart_updated\",\"messageId\":\"msg-%d\","
                    "\"userId\":\"customer-%06d\",\"timestamp\":\"%s\",\"context\":{\"ip\":"
                    "\"203.0.113.7\",\"library\":{\"name\":\"analytics.js\",\"version\":\"4.1.0\"}},"
                    "\"properties\":{\"value\":%.2f,\"sku\":\"sku-%u\",\"category\":\"%s\","
                    "\"items\":%d%s}}",
                    i, u, ts.c_str(), value, r % 500, categories[(r >> 4) % 7], items,
                    coupon ? ",\"coupon\":\"SAVE10\"" : "");
    }
    out.emplace_back(buf);
  }
  return out;
}

struct CountSink : runtime::DecisionSink {
  void OnDecision(const runtime::Decision&) override { ++decisions; }
  void OnDeadLetter(std::string_view, const std::string& reason) override {
    if (dead++ == 0) std::fprintf(stderr, "dead letter: %s\n", reason.c_str());
  }
  uint64_t decisions = 0, dead = 0;
};

// ---- Latency histogram --------------------------------------------------------------------

// 1 ns buckets up to 100 us; values above are kept exactly.
class Histogram {
 public:
  Histogram() : buckets_(kLimit, 0) {}
  void Add(int64_t ns) {
    ++count_;
    if (ns < 0) ns = 0;
    if (ns < kLimit) {
      ++buckets_[static_cast<size_t>(ns)];
    } else {
      over_.push_back(ns);
    }
  }
  // The smallest value v such that at least q of the samples are <= v.
  int64_t Quantile(double q) {
    std::sort(over_.begin(), over_.end());
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int64_t v = 0; v < kLimit; ++v) {
      seen += buckets_[static_cast<size_t>(v)];
      if (seen >= rank) return v;
    }
    return over_[std::min<size_t>(rank - seen - 1, over_.size() - 1)];
  }
  int64_t Max() {
    if (!over_.empty()) return *std::max_element(over_.begin(), over_.end());
    for (int64_t v = kLimit - 1; v >= 0; --v)
      if (buckets_[static_cast<size_t>(v)]) return v;
    return 0;
  }

 private:
  static constexpr int64_t kLimit = 100000;
  std::vector<uint32_t> buckets_;
  std::vector<int64_t> over_;
  uint64_t count_ = 0;
};

int64_t Ns(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// ---- Decisions ------------------------------------------------------------------------------

// Messages by what they cost: did they fire timers, how many decisions they made.
constexpr int kClasses = 5;
const char* const kClassNames[kClasses] = {
    "fired a timer", "no timer, 0 decisions", "no timer, 1-2 decisions",
    "no timer, 3-4 decisions", "no timer, 5+ decisions"};

int ClassOf(uint64_t timers, uint64_t decisions) {
  if (timers > 0) return 0;
  return decisions == 0 ? 1 : decisions <= 2 ? 2 : decisions <= 4 ? 3 : 4;
}

struct Run {
  double p50_us, p99_us, p999_us, max_us, msgs_per_s, decisions_per_msg, timers_per_msg;
  struct ClassFigures {
    double share, p50_us, p99_us;
  } classes[kClasses];
};

void Prepare(runtime::Engine& engine, int customers, CountSink& sink) {
  for (int u = 0; u < customers; ++u) engine.Process(Identify(u), sink);
}

// Profiling only the measured loops: with DECISION_BENCH_PERF_CTL=FIFO, "enable" and
// "disable" are written to FIFO around them, for `perf record --control fifo:FIFO -D -1`.
void PerfControl(const char* command) {
  static FILE* fifo = [] {
    const char* path = std::getenv("DECISION_BENCH_PERF_CTL");
    return path ? std::fopen(path, "w") : nullptr;
  }();
  if (!fifo) return;
  std::fprintf(fifo, "%s\n", command);
  std::fflush(fifo);
}

Run DecideOnce(const runtime::CompiledProgram& program, const std::vector<std::string>& stream,
               int customers) {
  Run r{};
  {  // latency, per message
    runtime::Engine engine(program);
    CountSink sink;
    Prepare(engine, customers, sink);
    uint64_t decisions_before = sink.decisions, timers_before = engine.stats().timers_fired;
    Histogram h;
    std::vector<Histogram> by_class(kClasses);
    std::vector<uint64_t> class_count(kClasses, 0);
    const runtime::EngineStats& stats = engine.stats();
    PerfControl("enable");
    for (const std::string& m : stream) {
      uint64_t d0 = sink.decisions, f0 = stats.timers_fired;
      auto t0 = Clock::now();
      engine.Process(m, sink);
      int64_t ns = Ns(Clock::now() - t0);
      h.Add(ns);
      int k = ClassOf(stats.timers_fired - f0, sink.decisions - d0);
      by_class[static_cast<size_t>(k)].Add(ns);
      ++class_count[static_cast<size_t>(k)];
    }
    PerfControl("disable");
    for (int k = 0; k < kClasses; ++k) {
      size_t i = static_cast<size_t>(k);
      bool any = class_count[i] > 0;
      r.classes[k] = {static_cast<double>(class_count[i]) / static_cast<double>(stream.size()),
                      any ? static_cast<double>(by_class[i].Quantile(0.5)) / 1000 : 0,
                      any ? static_cast<double>(by_class[i].Quantile(0.99)) / 1000 : 0};
    }
    r.p50_us = static_cast<double>(h.Quantile(0.50)) / 1000;
    r.p99_us = static_cast<double>(h.Quantile(0.99)) / 1000;
    r.p999_us = static_cast<double>(h.Quantile(0.999)) / 1000;
    r.max_us = static_cast<double>(h.Max()) / 1000;
    r.decisions_per_msg =
        static_cast<double>(sink.decisions - decisions_before) / static_cast<double>(stream.size());
    r.timers_per_msg = static_cast<double>(engine.stats().timers_fired - timers_before) /
                       static_cast<double>(stream.size());
    if (sink.dead) std::fprintf(stderr, "decision_bench: %llu dead letters\n",
                                static_cast<unsigned long long>(sink.dead));
  }
  {  // throughput, no clock reads inside the loop
    runtime::Engine engine(program);
    CountSink sink;
    Prepare(engine, customers, sink);
    PerfControl("enable");
    auto t0 = Clock::now();
    for (const std::string& m : stream) engine.Process(m, sink);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    PerfControl("disable");
    r.msgs_per_s = static_cast<double>(stream.size()) / s;
  }
  return r;
}

struct Options {
  int messages = 200000;
  int customers = 10000;
  int reps = 3;
  std::vector<int> sizes = {10, 100, 1000};
  std::vector<std::string> backends = {"jit", "interpreter"};
  bool latency = true, compile = true;
  int memory = 0;  // customers for --memory (0: off)
  int hot = 0;     // page views for --hot-customer (0: off)
  int reload = 0;  // journeys for --live-reload (0: off)
};

void Decisions(const Options& o) {
  std::vector<std::string> stream = Stream(o.messages, o.customers);
  size_t bytes = 0;
  for (const std::string& m : stream) bytes += m.size();
  // The cost of one clock read, to judge the per-message figures by.
  std::vector<double> clock_ns;
  for (int k = 0; k < 5; ++k) {
    auto t0 = Clock::now();
    for (int i = 0; i < 1000000; ++i) (void)Clock::now();
    clock_ns.push_back(static_cast<double>(Ns(Clock::now() - t0)) / 1e6);
  }
  std::printf("## Decisions (Engine::Process, JSON bytes in, decisions to a counting sink)\n\n");
  std::printf("%d tracks (80%% cart_updated, 20%% purchase; mean %zu bytes) over %d customers, "
              "5 journeys triggered per message in every size; median of %d runs; "
              "steady_clock::now() costs %.1f ns\n\n",
              o.messages, bytes / stream.size(), o.customers, o.reps, Median(clock_ns));
  std::printf("| journeys | back end | p50 us | p99 us | p99.9 us | max us | msgs/s | "
              "decisions/msg | timers/msg |\n|---|---|---|---|---|---|---|---|---|\n");
  // Every configuration first, then the repetitions round robin (each round starting
  // one configuration later), so that a noisy spell on the machine is shared out
  // instead of landing on one configuration.
  struct Config {
    int journeys;
    std::string backend;
    runtime::CompiledProgram program;
    std::vector<Run> runs;
  };
  std::vector<Config> configs;
  for (int n : o.sizes) {
    auto c = Compile(Program(n));
    for (const std::string& backend : o.backends) configs.push_back({n, backend, Backend(*c, backend), {}});
  }
  // One untimed run first: the first engine of a process grows the heap (page faults,
  // malloc arenas) where the later ones reuse it.
  if (!configs.empty()) DecideOnce(configs.front().program, stream, o.customers);
  for (int rep = 0; rep < o.reps; ++rep) {
    for (size_t k = 0; k < configs.size(); ++k) {
      Config& cfg = configs[(k + static_cast<size_t>(rep)) % configs.size()];
      Run r = DecideOnce(cfg.program, stream, o.customers);
      cfg.runs.push_back(r);
      std::printf("RAW {\"bench\":\"decision\",\"journeys\":%d,\"backend\":\"%s\",\"rep\":%d,"
                  "\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.1f,"
                  "\"msgs_per_s\":%.0f,\"decisions_per_msg\":%.4f,\"timers_per_msg\":%.4f}\n",
                  cfg.journeys, cfg.backend.c_str(), rep, r.p50_us, r.p99_us, r.p999_us,
                  r.max_us, r.msgs_per_s, r.decisions_per_msg, r.timers_per_msg);
      std::fflush(stdout);
    }
  }
  std::vector<std::pair<std::string, Run>> anatomy;  // first run of each configuration
  for (const Config& cfg : configs) {
    const std::vector<Run>& runs = cfg.runs;
    auto med = [&](double Run::*f) {
      std::vector<double> v;
      for (const Run& r : runs) v.push_back(r.*f);
      return Median(v);
    };
    std::printf("| %d | %s | %.2f | %.2f | %.2f | %.1f | %.0f | %.3f | %.3f |\n", cfg.journeys,
                cfg.backend.c_str(), med(&Run::p50_us), med(&Run::p99_us), med(&Run::p999_us),
                med(&Run::max_us), med(&Run::msgs_per_s), med(&Run::decisions_per_msg),
                med(&Run::timers_per_msg));
    std::printf("MEDIAN {\"bench\":\"decision\",\"journeys\":%d,\"backend\":\"%s\","
                "\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"msgs_per_s\":%.0f}\n",
                cfg.journeys, cfg.backend.c_str(), med(&Run::p50_us), med(&Run::p99_us),
                med(&Run::p999_us), med(&Run::msgs_per_s));
    anatomy.emplace_back(std::to_string(cfg.journeys) + " " + cfg.backend, runs.front());
  }
  std::printf("\nLatency by message class (first run of each configuration): share of "
              "messages, p50 us, p99 us\n\n| class |");
  for (const auto& a : anatomy) std::printf(" %s |", a.first.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < anatomy.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (int k = 0; k < kClasses; ++k) {
    std::printf("| %s |", kClassNames[k]);
    for (const auto& a : anatomy) {
      const Run::ClassFigures& f = a.second.classes[k];
      std::printf(" %.1f%%: %.2f / %.2f |", f.share * 100, f.p50_us, f.p99_us);
    }
    std::printf("\n");
  }
  std::printf("\n");
}

// ---- Compile time -----------------------------------------------------------------------------

void CompileTimes(const Options& o) {
  // Create the two JITs first and keep them (they are shared per opt level while a
  // program using them lives), so that their one-time creation is not in the figures.
  const std::string tiny = Program(kCore);
  auto tiny_c = Compile(tiny);
  auto t0 = Clock::now();
  runtime::CompiledProgram keep_o0 = Backend(*tiny_c, "jit", 0);
  double create_o0 = Ms(Clock::now() - t0);
  t0 = Clock::now();
  runtime::CompiledProgram keep_o2 = Backend(*tiny_c, "jit", 2);
  double create_o2 = Ms(Clock::now() - t0);

  std::printf("## Compile time (ms; median of %d runs)\n\n", o.reps);
  std::printf("front end = CompileSources (parse, check, lower to IR); back end = "
              "MakeInterpretedProgram / MakeJitProgram; total = both. First JIT use in a "
              "process (creating the LLJIT, plus the 10-journey program): O0 %.1f ms, O2 %.1f ms.\n\n",
              create_o0, create_o2);
  std::printf("| journeys | source KiB | front end | interpreter total | JIT O0 back end | JIT O0 total "
              "| JIT O2 back end | JIT O2 total |\n|---|---|---|---|---|---|---|---|\n");
  for (int n : o.sizes) {
    std::string src = Program(n);
    std::vector<double> front, interp, o0, o2;
    for (int rep = 0; rep < o.reps; ++rep) {
      t0 = Clock::now();
      auto c = Compile(src);
      front.push_back(Ms(Clock::now() - t0));
      t0 = Clock::now();
      { auto p = *compiler::MakeInterpretedProgram(*c); }
      interp.push_back(Ms(Clock::now() - t0));
      t0 = Clock::now();
      { auto p = Backend(*c, "jit", 0); }
      o0.push_back(Ms(Clock::now() - t0));
      t0 = Clock::now();
      { auto p = Backend(*c, "jit", 2); }
      o2.push_back(Ms(Clock::now() - t0));
      std::printf("RAW {\"bench\":\"compile\",\"journeys\":%d,\"rep\":%d,\"front_ms\":%.2f,"
                  "\"interpreter_ms\":%.2f,\"jit_o0_ms\":%.2f,\"jit_o2_ms\":%.2f}\n",
                  n, rep, front.back(), interp.back(), o0.back(), o2.back());
      std::fflush(stdout);
    }
    double f = Median(front);
    std::printf("| %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", n,
                static_cast<double>(src.size()) / 1024, f, f + Median(interp), Median(o0),
                f + Median(o0), Median(o2), f + Median(o2));
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ---- Memory -----------------------------------------------------------------------------------

double RssMiB() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<double>(resident) * 4096.0 / (1024.0 * 1024.0);
}

void Memory(int customers) {
  auto c = Compile(Program(kCore));
  runtime::CompiledProgram program = Backend(*c, "jit");
  CountSink sink;
  double before = RssMiB();
  {
    runtime::Engine engine(program);
    for (int u = 0; u < customers; ++u) engine.Process(Identify(u), sink);
    double profiles = RssMiB();
    for (int u = 0; u < customers; ++u) {
      char buf[512];
      std::string ts = runtime::FormatTimestamp(StartUs() + int64_t{u} * 1000);
      std::snprintf(buf, sizeof buf,
                    "{\"type\":\"track\",\"event\":\"cart_updated\",\"messageId\":\"m-%d\","
                    "\"userId\":\"customer-%06d\",\"timestamp\":\"%s\",\"properties\":"
                    "{\"value\":%d,\"sku\":\"sku-%d\",\"category\":\"shoes\",\"items\":2}}",
                    u, u, ts.c_str(), 20 + u % 200, u % 500);
      engine.Process(buf, sink);
    }
    double after = RssMiB();
    auto per = [&](double mib) { return mib * 1024 * 1024 / customers; };
    std::printf("## Customer state\n\n%d customers, 10 journeys, JIT. RSS before: %.0f MiB. "
                "After one identify each (profiles only): %.0f MiB, %.0f bytes per customer. "
                "After one cart_updated each too (windows, caps, journey instances, timers; "
                "%llu decisions): %.0f MiB, %.0f bytes per customer.\n\n",
                customers, before, profiles, per(profiles - before),
                static_cast<unsigned long long>(sink.decisions), after, per(after - before));
    std::printf("RAW {\"bench\":\"memory\",\"customers\":%d,\"rss_before_mib\":%.1f,"
                "\"rss_profiles_mib\":%.1f,\"rss_after_mib\":%.1f,"
                "\"bytes_per_customer_profile_only\":%.0f,\"bytes_per_customer\":%.0f}\n",
                customers, before, profiles, after, per(profiles - before), per(after - before));
    // Customers packed (EngineLimits::max_unpacked_customers, default 65,536), and
    // the heap as malloc counts it (RSS also holds pages malloc keeps free).
    const runtime::Engine::PackedStats packed = engine.packed();
    const struct mallinfo2 heap = mallinfo2();
    std::printf("Packed: %zu customers in %zu bytes (%.0f per packed customer; table and "
                "dictionary %zu bytes); %zu unpacked (limit %llu). Heap in use %.0f MiB, "
                "free in the heap %.0f MiB.\n\n",
                packed.customers, packed.bytes,
                packed.customers ? static_cast<double>(packed.bytes) / packed.customers : 0.0,
                packed.overhead_bytes, engine.customers() - packed.customers,
                static_cast<unsigned long long>(engine.limits().max_unpacked_customers),
                static_cast<double>(heap.uordblks) / (1024 * 1024),
                static_cast<double>(heap.fordblks) / (1024 * 1024));
    std::printf("RAW {\"bench\":\"packed\",\"customers\":%zu,\"bytes\":%zu,"
                "\"overhead_bytes\":%zu,\"heap_in_use_mib\":%.1f,\"heap_free_mib\":%.1f}\n",
                packed.customers, packed.bytes, packed.overhead_bytes,
                static_cast<double>(heap.uordblks) / (1024 * 1024),
                static_cast<double>(heap.fordblks) / (1024 * 1024));
    // What a message costs when its customer is packed (unpacked first, and another
    // packed to make room) against one whose customer is not: 5,000 of each, the
    // latest customers (unpacked) first, then the earliest (packed since), all at the
    // time of the last message, so that no timer fires inside them.
    if (packed.customers > 5000) {
      const int64_t t = StartUs() + int64_t{customers - 1} * 1000;
      auto timed = [&](int first) {
        std::vector<double> ns;
        for (int i = 0; i < 5000; ++i) {
          const int u = first + i;
          char buf[512];
          std::string ts = runtime::FormatTimestamp(t);  // no timer falls due meanwhile
          std::snprintf(buf, sizeof buf,
                        "{\"type\":\"track\",\"event\":\"cart_updated\",\"messageId\":"
                        "\"p-%d\",\"userId\":\"customer-%06d\",\"timestamp\":\"%s\","
                        "\"properties\":{\"value\":%d,\"sku\":\"sku-%d\",\"category\":"
                        "\"shoes\",\"items\":2}}",
                        u, u, ts.c_str(), 20 + u % 200, u % 500);
          auto t0 = std::chrono::steady_clock::now();
          engine.Process(buf, sink);
          ns.push_back(std::chrono::duration<double, std::nano>(
                           std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ns.begin(), ns.end());
        return std::pair<double, double>{ns[ns.size() / 2] / 1000, ns[ns.size() * 99 / 100] / 1000};
      };
      const auto unpacked = timed(customers - 5000);
      const uint64_t unpacks = engine.packed().unpacks;
      const auto packed_first = timed(0);
      std::printf("A message whose customer is unpacked: p50 %.2f us, p99 %.2f us; whose "
                  "customer is packed (%llu unpacked for them): p50 %.2f us, p99 %.2f us.\n\n",
                  unpacked.first, unpacked.second,
                  static_cast<unsigned long long>(engine.packed().unpacks - unpacks),
                  packed_first.first, packed_first.second);
      std::printf("RAW {\"bench\":\"packed_message\",\"unpacked_p50_us\":%.2f,"
                  "\"unpacked_p99_us\":%.2f,\"packed_p50_us\":%.2f,\"packed_p99_us\":%.2f}\n",
                  unpacked.first, unpacked.second, packed_first.first, packed_first.second);
    }
    // What carrying this state costs: a checkpoint written and read, and a hot reload
    // to a program with one more journey (the state is carried by the same rule).
    using Clock = std::chrono::steady_clock;
    auto ms = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    auto t0 = Clock::now();
    std::string checkpoint = engine.SaveSnapshot();
    auto t1 = Clock::now();
    runtime::Engine loaded(program);
    const bool ok = loaded.LoadSnapshot(checkpoint).ok();
    auto t2 = Clock::now();
    auto edited = Compile(Program(kCore + 1));
    runtime::CompiledProgram next = Backend(*edited, "jit");
    auto t3 = Clock::now();
    if (Status s = engine.Reload(std::move(next), sink); !s.ok()) {
      std::fprintf(stderr, "decision_bench: reload: %s\n", s.message().c_str());
      std::exit(1);
    }
    auto t4 = Clock::now();
    std::printf("Carrying the state: checkpoint written in %.0f ms (%.1f MB), read in %.0f ms%s; "
                "hot reload to an edited program in %.0f ms (%.2f us per customer).\n\n",
                ms(t0, t1), checkpoint.size() / 1e6, ms(t1, t2), ok ? "" : " (failed)",
                ms(t3, t4), ms(t3, t4) * 1000 / customers);
    std::printf("RAW {\"bench\":\"carry\",\"customers\":%d,\"save_ms\":%.1f,\"load_ms\":%.1f,"
                "\"reload_ms\":%.1f,\"checkpoint_bytes\":%zu}\n",
                customers, ms(t0, t1), ms(t1, t2), ms(t3, t4), checkpoint.size());
  }
}

// ---- One hot customer ---------------------------------------------------------------------

// ns per message of `n` page views: all for one customer, or one each for n customers.
double PageViewsNs(const runtime::CompiledProgram& program, int n, bool hot) {
  std::vector<std::string> messages;
  messages.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    char buf[256];
    std::string ts = runtime::FormatTimestamp(StartUs() + int64_t{i} * 1000);
    std::snprintf(buf, sizeof buf,
                  "{\"type\":\"track\",\"event\":\"page_view\",\"messageId\":\"pv-%d\","
                  "\"userId\":\"customer-%06d\",\"timestamp\":\"%s\",\"properties\":{\"ms\":%d,"
                  "\"score\":%.1f}}",
                  i, hot ? 0 : i, ts.c_str(), 100 + i % 900, (i % 7) * 0.1);
    messages.emplace_back(buf);
  }
  runtime::Engine engine(program);
  CountSink sink;
  auto t0 = Clock::now();
  for (const std::string& m : messages) engine.Process(m, sink);
  const double ns = static_cast<double>(Ns(Clock::now() - t0)) / n;
  if (sink.dead > 0) std::exit(1);
  return ns;
}

void HotCustomer(const Options& o, int n) {
  const std::string base =
      "event page_view { ms: int  score: float }\nprofile { tier: string = \"\" }\n"
      "channel web { consent true }\n";
  const std::pair<const char*, const char*> windows[] = {
      {"count", "count(page_view within 1d) > 100000000"},
      {"sum", "sum(page_view.ms within 1d) > 100000000000"},
      {"count where", "count(page_view within 1d where event.ms > 500) > 100000000"},
      {"float sum", "sum(page_view.score within 1d) > 1e300"},
      {"sum over 5s", "sum(page_view.ms within 5s) > 100000000000"},
  };
  std::printf("| window | one customer: ns/message | %d customers: ns/message | hot / spread |\n"
              "|---|---:|---:|---:|\n", n);
  for (const auto& [name, condition] : windows) {
    auto c = Compile(base + "journey j { on page_view when " + condition +
                     " reenter always send web \"x\" }\n");
    runtime::CompiledProgram program = Backend(*c, "jit");
    std::vector<double> hot, spread;
    for (int r = 0; r < o.reps; ++r) {  // round robin: the machine's noise falls on both
      hot.push_back(PageViewsNs(program, n, true));
      spread.push_back(PageViewsNs(program, n, false));
    }
    const double h = Median(hot), sp = Median(spread);
    std::printf("| %s | %.0f | %.0f | %.2f |\n", name, h, sp, h / sp);
    std::printf("RAW {\"bench\":\"hot_customer\",\"window\":\"%s\",\"messages\":%d,"
                "\"hot_ns\":%.1f,\"spread_ns\":%.1f,\"ratio\":%.3f}\n", name, n, h, sp, h / sp);
  }
}

// ---- A hot reload while deciding ------------------------------------------------------------

// The p-th quantile (0..1) of `v`, sorted here.
double Quantile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// --live-reload N: the engine decides the stream (its customers prepared) at 100,000
// messages/s of wall time on this thread, with the N-journey program already loaded
// (JIT, O2). After one second, another thread compiles the same source again
// (CompileSources: front end) and calls StageProgram (opt level 2): the interpreted
// form is staged at once, native code at O0, then at O2, each taken over between two
// messages. Reported: the wall time from the start of the reload until the engine
// decides with each form, and the Process latency before the reload and while it
// goes on (a pause in deciding would show as a long Process call).
void LiveReload(const Options& o, int journeys) {
  const std::string src = Program(journeys);
  auto first = Compile(src);
  runtime::Engine engine(Backend(*first, "jit", 2));
  CountSink sink;
  Prepare(engine, o.customers, sink);
  const std::vector<std::string> stream = Stream(std::max(o.messages, 600000), o.customers);
  constexpr int kPerMs = 100;  // messages per millisecond of wall time
  std::vector<double> before, during;  // Process ns
  std::vector<std::pair<double, std::string>> lives;  // ms after the reload began, form
  std::thread reloader;
  Clock::time_point reload_start{};
  const Clock::time_point start = Clock::now();
  uint64_t reloads = engine.stats().reloads;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (i % kPerMs == 0) {  // paced by the millisecond, sleeping (not spinning) between
      std::this_thread::sleep_until(start + std::chrono::milliseconds(i / kPerMs));
    }
    if (!reloader.joinable() && i == 1000 * kPerMs) {
      reload_start = Clock::now();
      reloader = std::thread([&engine, &src] {
        std::shared_ptr<const compiler::Compilation> c = Compile(src);
        compiler::StageProgram(engine, c, 2).join();
      });
    }
    const auto t0 = Clock::now();
    engine.Process(stream[i], sink);
    const double ns = static_cast<double>(Ns(Clock::now() - t0));
    (reloader.joinable() ? during : before).push_back(ns);
    if (engine.stats().reloads != reloads) {  // a form took over before this message
      reloads = engine.stats().reloads;
      const bool jit = std::strcmp(engine.evaluator_name(), "jit") == 0;
      const bool o0_seen = std::any_of(lives.begin(), lives.end(),
                                       [](const auto& l) { return l.second == "JIT O0"; });
      const char* form = !jit ? "interpreter" : o0_seen ? "JIT O2" : "JIT O0";
      lives.emplace_back(Ms(Clock::now() - reload_start), form);
      if (std::strcmp(form, "JIT O2") == 0) break;
    }
  }
  if (reloader.joinable()) reloader.join();
  std::printf("| journeys | interpreter live (ms) | JIT O0 live (ms) | JIT O2 live (ms) | Process p50 / p99 / max before (us) | during the reload (us) |\n"
              "|---|---:|---:|---:|---|---|\n");
  std::printf("| %d |", journeys);
  for (const char* form : {"interpreter", "JIT O0", "JIT O2"}) {
    auto it = std::find_if(lives.begin(), lives.end(), [&](const auto& l) { return l.second == form; });
    if (it != lives.end()) std::printf(" %.0f |", it->first);
    else std::printf(" (not seen) |");
  }
  std::printf(" %.2f / %.2f / %.0f | %.2f / %.2f / %.0f |\n",
              Quantile(before, 0.5) / 1000, Quantile(before, 0.99) / 1000, Quantile(before, 1) / 1000,
              Quantile(during, 0.5) / 1000, Quantile(during, 0.99) / 1000, Quantile(during, 1) / 1000);
  std::printf("RAW {\"bench\":\"live_reload\",\"journeys\":%d,\"customers\":%d", journeys,
              o.customers);
  for (const auto& [ms, form] : lives) std::printf(",\"%s ms\":%.1f", form.c_str(), ms);
  std::printf(",\"during_max_us\":%.1f,\"during_messages\":%zu}\n", Quantile(during, 1) / 1000,
              during.size());
}

std::vector<int> ParseSizes(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p;) {
    out.push_back(std::atoi(p));
    const char* comma = std::strchr(p, ',');
    if (!comma) break;
    p = comma + 1;
  }
  for (int n : out) {
    if (n < kCore) {
      std::fprintf(stderr, "decision_bench: a size must be at least %d\n", kCore);
      std::exit(2);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "decision_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--messages") o.messages = std::atoi(value());
    else if (a == "--customers") o.customers = std::atoi(value());
    else if (a == "--reps") o.reps = std::max(1, std::atoi(value()));
    else if (a == "--sizes") o.sizes = ParseSizes(value());
    else if (a == "--only-latency") o.compile = false;
    else if (a == "--only-compile") o.latency = false;
    else if (a == "--backend") o.backends = {value()};
    else if (a == "--memory") {
      o.memory = (i + 1 < argc && argv[i + 1][0] != '-') ? std::atoi(argv[++i]) : 1000000;
    } else if (a == "--hot-customer") {
      o.hot = (i + 1 < argc && argv[i + 1][0] != '-') ? std::atoi(argv[++i]) : 50000;
    } else if (a == "--live-reload") {
      o.reload = (i + 1 < argc && argv[i + 1][0] != '-') ? std::atoi(argv[++i]) : 1000;
    } else if (a == "--print-program") {
      std::fputs(Program(std::atoi(value())).c_str(), stdout);
      return 0;
    } else {
      std::fprintf(stderr, "usage: decision_bench [--messages N] [--customers N] [--reps N] "
                           "[--sizes 10,100,1000] [--only-latency|--only-compile] "
                           "[--backend jit|interpreter] [--memory [CUSTOMERS]] "
                           "[--hot-customer [N]] [--live-reload [N]] [--print-program N]\n");
      return 2;
    }
  }
  if (o.messages <= 0 || o.customers <= 0) {
    std::fprintf(stderr, "decision_bench: --messages and --customers must be positive\n");
    return 2;
  }
  if (o.memory > 0) {
    Memory(o.memory);
    return 0;
  }
  if (o.hot > 0) {
    HotCustomer(o, o.hot);
    return 0;
  }
  if (o.reload > 0) {
    LiveReload(o, o.reload);
    return 0;
  }
  if (o.latency) Decisions(o);
  if (o.compile) CompileTimes(o);
  return 0;
}
