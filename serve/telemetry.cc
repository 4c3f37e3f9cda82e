#include "telemetry.h"

#include "action_acks.h"
#include "shard.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include "serve/metrics/http_server.h"
#include "serve/metrics/metrics.h"
#include "serve/metrics/serve_metric_set.h"
#include "ui/live_board.h"
#include "ui/ui_server.h"

namespace juncture::serve {

namespace {

// The most recent `capacity` samples (seconds), for exact quantiles in the log.
class Recent {
 public:
  explicit Recent(size_t capacity) : capacity_(capacity) {}
  void Add(double v) {
    if (samples_.size() < capacity_) {
      samples_.push_back(v);
    } else {
      samples_[next_++ % capacity_] = v;
    }
  }
  const std::vector<double>& samples() const { return samples_; }

 private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<double> samples_;
};

// "p50 .. us, p99 .. us (last N)" of samples in seconds.
std::string Quantiles(std::vector<double> s) {
  if (s.empty()) return "none";
  auto at = [&](double q) {
    size_t k = static_cast<size_t>(q * static_cast<double>(s.size() - 1));
    std::nth_element(s.begin(), s.begin() + static_cast<long>(k), s.end());
    return s[k] * 1e6;
  };
  char buf[96];
  std::snprintf(buf, sizeof buf, "p50 %.1f us, p99 %.1f us (last %zu)", at(0.5), at(0.99),
                s.size());
  return buf;
}

// juncture_dead_letters_total's reason_kind: one of a few fixed classes of the
// decoder's reasons (a label must not carry field names or values: unbounded).
std::string_view ReasonKind(std::string_view reason) {
  auto has = [&](std::string_view w) { return reason.find(w) != std::string_view::npos; };
  if (has("--max-customer-id-bytes")) return "customer_id_too_long";
  if (has("--max-timers-per-customer")) return "timer_limit";
  if (has("--max-skew")) return "clock_skew";
  if (has("a receipt")) return "bad_receipt";
  if (has("JSON")) return "invalid_json";
  if (has("missing")) return "missing_field";
  if (has("timestamp")) return "bad_timestamp";
  if (reason.rfind("type must be", 0) == 0) return "bad_message_type";
  if (has("larger than")) return "too_large";
  if (has("must be") || has("got ")) return "wrong_type";
  return "other";
}

// A split time in µs as ns for a histogram: clamped to [0, a year], since the times
// it comes from (a message's timestamp, a receipt's) are the producers' to write.
int64_t SplitNanos(int64_t us) {
  constexpr int64_t kYearUs = int64_t{366} * 24 * 3600 * 1'000'000;
  return std::clamp<int64_t>(us, 0, kYearUs) * 1000;
}

}  // namespace

struct Telemetry::Impl {
  metrics::Registry registry;
  metrics::ServeMetricSet m{registry};
  std::unique_ptr<metrics::MetricsServer> server;  // Listen
  bool https = false;                       // Listen's options, for Endpoints()
  std::string metrics_address, ui_address;  // as given (the live page's completed)
  mutable std::mutex mu;  // the fields below
  std::vector<std::unique_ptr<ShardTelemetry>> shards;
  uint64_t publish_failures = 0, actions_not_stored = 0, dropped = 0;
  // The live page (ListenUi): null unless it is on. Set before the shards decide.
  std::unique_ptr<ui::LiveBoard> board;
  std::unique_ptr<ui::UiServer> ui;
};

struct ShardTelemetry::Impl {
  explicit Impl(metrics::ServeMetricSet& m) : m(m) {}
  metrics::ServeMetricSet& m;
  metrics::SeriesCache<metrics::Counter> decisions{m.decisions};
  metrics::SeriesCache<metrics::Histogram> receipt_to_decision{m.receipt_to_decision};
  metrics::SeriesCache<metrics::Histogram> signal_to_decision{m.signal_to_decision};
  metrics::SeriesCache<metrics::Counter> conversions{m.conversions};
  metrics::SeriesCache<metrics::Counter> holdout_entries{m.holdout_entries};
  metrics::SeriesCache<metrics::Histogram> decision_to_publish{m.decision_to_publish};
  metrics::SeriesCache<metrics::Counter> dead_letters{m.dead_letters};
  runtime::EngineStats limits_seen;  // the limit counters as last exported
  mutable std::mutex recent_mu;      // the fields below: the summary reads them
  Recent recent_decision{100000}, recent_publish{100000};
  uint64_t decisions_total = 0, sent_total = 0, dead_total = 0;
};

Telemetry::Telemetry() : impl_(std::make_unique<Impl>()) { impl_->m.ExportZeros(); }
Telemetry::~Telemetry() {
  if (impl_->ui) impl_->ui->Stop();
  if (impl_->server) impl_->server->Stop();
}

Status Telemetry::Listen(const ServeOptions& options) {
  const metrics::HttpSecurity security{options.http_token, options.http_tls_cert,
                                       options.http_tls_key};
  impl_->https = !options.http_tls_cert.empty();
  impl_->metrics_address = options.metrics_address;
  impl_->ui_address = ui::UiAddress(options.ui_address);
  if (!options.metrics_address.empty()) {
    impl_->server = std::make_unique<metrics::MetricsServer>(impl_->registry, security);
    Status s = impl_->server->Listen(options.metrics_address);
    if (!s.ok()) return s.WithContext("metrics: ");
  }
  if (!options.ui_address.empty()) {
    auto picture = options.ui_picture ? options.ui_picture : [] { return std::string(); };
    impl_->board = std::make_unique<ui::LiveBoard>();
    impl_->ui = std::make_unique<ui::UiServer>(*impl_->board, std::move(picture), security);
    Status s = impl_->ui->Listen(options.ui_address);
    if (!s.ok()) return s.WithContext("ui: ");
  }
  return OkStatus();
}

std::string Telemetry::Endpoints() const {
  const std::string scheme = impl_->https ? "https://" : "http://";
  auto shown = [](const std::string& given, int port) {
    Result<metrics::Endpoint> at = metrics::ParseEndpoint(given);
    if (!at.ok()) return given;
    std::string host = at->host.empty() ? "0.0.0.0" : at->host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
  };
  std::string out;
  if (impl_->server) {
    out += "; metrics on " + scheme + shown(impl_->metrics_address, impl_->server->port()) + "/metrics";
  }
  if (impl_->ui) out += "; live page on " + scheme + shown(impl_->ui_address, impl_->ui->port()) + "/";
  return out;
}

ShardTelemetry& Telemetry::AddShard() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return *impl_->shards.emplace_back(std::make_unique<ShardTelemetry>(*this));
}

void Telemetry::MessageIn() { impl_->m.messages.Inc(); }
void Telemetry::Round() { impl_->m.rounds.Inc(); }
void Telemetry::Reload(bool ok) { (ok ? impl_->m.reloads_ok : impl_->m.reloads_failed).Inc(); }
void Telemetry::Reconnected() { impl_->m.nats_reconnects.Inc(); }
void Telemetry::Disconnected() {}

void Telemetry::ProgramInfo(const runtime::ProgramSpec& spec, const std::string& evaluator) {
  // The program's version: a hash of its journeys' names and content hashes.
  std::string all;
  for (const runtime::JourneySpec& j : spec.journeys) all += j.name + ":" + j.version + ";";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(all));
  impl_->m.SetProgramInfo(hex, evaluator);
  std::vector<std::string> names;
  for (const runtime::JourneySpec& j : spec.journeys) names.push_back(j.name);
  impl_->m.JourneysLoaded(names);
  impl_->m.journeys.Set(static_cast<double>(spec.journeys.size()));
}

ShardTelemetry::ShardTelemetry(Telemetry& all)
    : all_(all), impl_(std::make_unique<Impl>(all.impl_->m)) {}
ShardTelemetry::~ShardTelemetry() = default;

void ShardTelemetry::State(size_t customers, size_t timers, size_t packed) {
  // The gauges are the sums over the shards: each adds its own changes (lock-free).
  if (customers != customers_) {
    impl_->m.customers.Add(static_cast<double>(customers) - static_cast<double>(customers_));
    customers_ = customers;
  }
  if (timers != timers_) {
    impl_->m.timers_pending.Add(static_cast<double>(timers) - static_cast<double>(timers_));
    timers_ = timers;
  }
  if (packed != packed_) {
    impl_->m.customers_packed.Add(static_cast<double>(packed) - static_cast<double>(packed_));
    packed_ = packed;
  }
}

void ShardTelemetry::Decided(const runtime::Decision& d, double receipt_to_decision,
                             int64_t now_us) {
  const char* outcome = runtime::ToString(d.outcome);
  const char* reason = runtime::ToString(d.reason);
  impl_->decisions.Get(d.journey, outcome, reason).Inc();
  double signal_to_decision_ms = -1;
  if (d.outcome == runtime::Outcome::kSent && d.signal_us != 0) {  // an action: from its signal to now
    impl_->signal_to_decision.Get(d.journey).ObserveNanos(SplitNanos(now_us - d.signal_us));
    signal_to_decision_ms = static_cast<double>(now_us - d.signal_us) / 1e3;
  }
  if (ui::LiveBoard* board = all_.impl_->board.get()) {
    board->Decided(d.journey, d.step, outcome, reason, d.arm, d.channel, signal_to_decision_ms);
  }
  if (d.outcome == runtime::Outcome::kConverted) impl_->conversions.Get(d.journey, d.arm).Inc();
  if (d.outcome == runtime::Outcome::kControl && d.channel.empty()) {
    impl_->holdout_entries.Get(d.journey).Inc();
  }
  if (receipt_to_decision > 0) {  // decisions of messages, not of timers
    impl_->receipt_to_decision.Get(d.journey).Observe(receipt_to_decision);
  }
  std::lock_guard<std::mutex> lock(impl_->recent_mu);
  ++impl_->decisions_total;
  if (receipt_to_decision > 0) impl_->recent_decision.Add(receipt_to_decision);
}

void Telemetry::Receipt(const ReceiptBook::Receipt& r, size_t tracked) {
  metrics::ServeMetricSet& m = impl_->m;
  m.receipts.WithLabels({r.status.empty() ? "?" : r.status, ResultName(r.result)}).Inc();
  m.receipts_tracked.Set(static_cast<double>(tracked));
  if (r.result != ReceiptBook::Result::kMatched || r.status != "delivered") return;
  if (impl_->board) {
    impl_->board->Delivered(r.channel, static_cast<double>(r.action_to_customer_us) / 1e3,
                            static_cast<double>(r.signal_to_customer_us) / 1e3, r.fit);
  }
  m.action_to_customer.WithLabels({r.channel}).ObserveNanos(SplitNanos(r.action_to_customer_us));
  m.signal_to_customer.WithLabels({r.channel}).ObserveNanos(SplitNanos(r.signal_to_customer_us));
  if (r.fit >= 0) m.moment_fit.WithLabels({r.journey, r.channel, r.fit ? "in" : "late"}).Inc();
}

void ShardTelemetry::Published(std::string_view channel, double decision_to_publish) {
  impl_->decision_to_publish.Get(channel).Observe(decision_to_publish);
  if (ui::LiveBoard* board = all_.impl_->board.get()) board->Published(channel, decision_to_publish * 1e3);
  std::lock_guard<std::mutex> lock(impl_->recent_mu);
  ++impl_->sent_total;
  impl_->recent_publish.Add(decision_to_publish);
}

void ShardTelemetry::DeadLetter(std::string_view reason, std::string_view message) {
  impl_->dead_letters.Get(ReasonKind(reason)).Inc();
  if (ui::LiveBoard* board = all_.impl_->board.get()) board->DeadLetter(reason, message);
  std::lock_guard<std::mutex> lock(impl_->recent_mu);
  ++impl_->dead_total;
}

void ShardTelemetry::PublishFailed(std::string_view output, const std::string& error) {
  all_.PublishFailed(output, error);
}
void ShardTelemetry::ActionNotStored(const Refusal& r) { all_.ActionNotStored(r); }

void Telemetry::PublishFailed(std::string_view output, const std::string& error) {
  impl_->m.publish_failures.WithLabels({output, "client"}).Inc();
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->publish_failures++ < 10) {
    std::fprintf(stderr, "juncture serve: publish failed: %s\n", error.c_str());
  }
}

void Telemetry::ActionNotStored(const Refusal& r) {
  impl_->m.publish_failures.WithLabels({"action", r.kind}).Inc();
  std::lock_guard<std::mutex> lock(impl_->mu);
  ++impl_->actions_not_stored;
}

void Telemetry::Dropped(std::string_view reason, uint64_t n) {
  if (n == 0) return;
  impl_->m.dropped.WithLabels({reason}).Inc(n);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->dropped += n;
}

void ShardTelemetry::Limits(const runtime::EngineStats& stats) {
  struct Field {
    uint64_t runtime::EngineStats::*counter;
    const char* label;
  };
  static constexpr Field kFields[] = {
      {&runtime::EngineStats::rejected_customer_id, "customer_id_bytes"},
      {&runtime::EngineStats::rejected_timer_limit, "timers_per_customer"},
      {&runtime::EngineStats::dropped_window_events, "window_events"},
      {&runtime::EngineStats::dropped_unknown_traits, "unknown_traits"},
  };
  static constexpr Field kIgnored[] = {
      {&runtime::EngineStats::ignored, "undeclared_event"},
      {&runtime::EngineStats::ignored_calls, "group_alias"},
      {&runtime::EngineStats::duplicates, "duplicate"},
  };
  auto export_changes = [&](const auto& fields, metrics::Family<metrics::Counter>& family) {
    for (const Field& f : fields) {
      uint64_t now = stats.*f.counter, seen = impl_->limits_seen.*f.counter;
      if (now == seen) continue;  // nearly always: one compare per counter
      if (now > seen) family.WithLabels({f.label}).Inc(now - seen);
      impl_->limits_seen.*f.counter = now;
    }
  };
  export_changes(kFields, impl_->m.limit_hits);
  export_changes(kIgnored, impl_->m.ignored);
  if (stats.unknown_timezones > impl_->limits_seen.unknown_timezones) {
    impl_->m.unknown_timezones.Inc(stats.unknown_timezones - impl_->limits_seen.unknown_timezones);
    impl_->limits_seen.unknown_timezones = stats.unknown_timezones;
  }
}

void Telemetry::Checkpoint(bool ok) { (ok ? impl_->m.checkpoints : impl_->m.checkpoint_failures).Inc(); }
void Telemetry::StateWritten(size_t customers, size_t bytes) {
  impl_->m.state_customers_written.Inc(customers);
  impl_->m.state_bytes_written.Inc(bytes);
}
NatsConnection::Callbacks ReportingCallbacks(Telemetry& metrics, std::function<std::string()> url) {
  NatsConnection::Callbacks callbacks;
  callbacks.disconnected = [&metrics] {
    metrics.Disconnected();
    ServeLog("disconnected from NATS; reconnecting (state is kept)");
  };
  callbacks.reconnected = [&metrics, url = std::move(url)] {
    metrics.Reconnected();
    ServeLog("reconnected to NATS at " + url());
  };
  return callbacks;
}

void Telemetry::Paused(bool paused) { impl_->m.intake_paused.Set(paused ? 1 : 0); }
void Telemetry::ClusterPartitions(size_t held) {
  impl_->m.cluster_partitions.Set(static_cast<double>(held));
}
void Telemetry::ActionsUnstored(size_t n) { impl_->m.actions_unstored.Set(static_cast<double>(n)); }

std::string Telemetry::Summary() const {
  uint64_t decisions = 0, sent = 0, dead = 0;
  std::vector<double> to_decision, to_publish;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& shard : impl_->shards) {
    const ShardTelemetry::Impl& s = *shard->impl_;
    std::lock_guard<std::mutex> recent(s.recent_mu);
    decisions += s.decisions_total;
    sent += s.sent_total;
    dead += s.dead_total;
    const std::vector<double>& d = s.recent_decision.samples();
    const std::vector<double>& p = s.recent_publish.samples();
    to_decision.insert(to_decision.end(), d.begin(), d.end());
    to_publish.insert(to_publish.end(), p.begin(), p.end());
  }
  return std::to_string(impl_->m.messages.Value()) + " messages, " + std::to_string(decisions) +
         " decisions (" + std::to_string(sent) + " actions sent), " + std::to_string(dead) +
         " dead letters, " + std::to_string(impl_->publish_failures) + " failed publishes, " +
         std::to_string(impl_->actions_not_stored) + " action publishes refused, " +
         std::to_string(impl_->dropped) + " messages dropped; received->decision " +
         Quantiles(std::move(to_decision)) + "; decision->publish " +
         Quantiles(std::move(to_publish));
}

}  // namespace juncture::serve
