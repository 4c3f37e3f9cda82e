// ReportJson: the JSON shape of docs/report.md ("JSON output").

#include "juncture/report/format.h"
#include "juncture/report/stats.h"

namespace juncture::tools::report {
namespace {

using json = nlohmann::ordered_json;

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

json Ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? json(nullptr) : json(static_cast<double>(part) / static_cast<double>(whole));
}

const char* GoalName(GoalKnown g) {
  switch (g) {
    case GoalKnown::kProgram: return "program";
    case GoalKnown::kLog: return "log";
    case GoalKnown::kNone: return "none";
    case GoalKnown::kUnknown: break;
  }
  return "unknown";
}

json ArmJson(const Arm& arm, bool rates) {
  json out = {{"entries", arm.entries}, {"conversions", arm.conversions},
              {"rate", nullptr}, {"ci95", nullptr}};
  auto p = rates ? EstimateProportion(arm.conversions, arm.entries) : std::nullopt;
  if (p) {
    out["rate"] = p->rate;
    out["ci95"] = {p->low, p->high};
  }
  return out;
}

// `out` starts with what says where the figures come from.
json ConversionsJson(const JourneyFigures& j, bool rates, json out) {
  out["treatment"] = ArmJson(j.treatment, rates);
  out["control"] = ArmJson(j.control, rates);
  out["converted_before_holdout"] = j.converted_before_holdout;
  json uplift = {{"difference", nullptr}, {"standard_error", nullptr}, {"ci95", nullptr},
                 {"significant", nullptr}, {"approximation_ok", nullptr}};
  auto d = rates ? DifferenceOfProportions(j.treatment.conversions, j.treatment.entries,
                                           j.control.conversions, j.control.entries)
                 : std::nullopt;
  if (d) {
    uplift = {{"difference", d->difference}, {"standard_error", d->standard_error},
              {"ci95", {d->low, d->high}}, {"significant", d->significant},
              {"approximation_ok", d->approximation_ok}};
  }
  out["uplift"] = uplift;
  return out;
}

json QuantilesJson(const std::vector<int64_t>& samples) {
  auto q = ComputeQuantiles(samples);
  if (!q) return nullptr;
  return {{"count", q->count}, {"p50", Seconds(q->p50)}, {"p90", Seconds(q->p90)},
          {"p99", Seconds(q->p99)}, {"max", Seconds(q->max)}};
}

json SendsJson(const SendCounts& s) {
  json suppressed = json::object();
  for (const auto& [reason, n] : s.suppressed) suppressed[reason] = n;
  return {{"sent", s.sent}, {"deferred", s.deferred}, {"control", s.control},
          {"suppressed", suppressed}, {"released", s.released}, {"pending", s.pending}};
}

json ReceiptsJson(const ReceiptCounts& r) {
  json out = json::object();
  for (int i = 0; i < kReceiptStatuses; ++i) {
    out[ReceiptStatusName(static_cast<ReceiptStatus>(i))] = r.by_status[i];
  }
  out["sent_without_delivery"] = r.sent_without_delivery;
  return out;
}

// Every channel the journey decided a send on, with what `part` says about it.
template <typename Map, typename Fn>
json PerChannel(const JourneyFigures& j, const Map& map, Fn part) {
  json out = json::object();
  for (const auto& [channel, sends] : j.sends) {
    auto it = map.find(channel);
    out[channel] = it == map.end() ? part(typename Map::mapped_type{}) : part(it->second);
  }
  return out;
}

// A journey's figures, or (with `total`) the sums over the journeys, which name the
// journeys pooled into their conversions and moment fit.
json FiguresJson(const JourneyFigures& j, bool receipts, const Report* total) {
  json out;
  out["versions"] = j.versions;
  out["entries"] = {{"total", j.entered}, {"treatment", j.entered - j.held_out},
                    {"control", j.held_out}, {"control_share", Ratio(j.held_out, j.entered)}};
  out["ended"] = {{"exited", j.exited}, {"completed", j.completed}};
  out["conversions"] = ConversionsJson(
      j, j.HasGoal(),
      total ? json{{"journeys", total->pooled_goal_journeys}} : json{{"goal", GoalName(j.goal)}});
  out["sends"] = PerChannel(j, j.sends, SendsJson);
  out["split_times"] = PerChannel(j, j.splits, [](const SplitSamples& s) {
    return json{{"signal_to_decision", QuantilesJson(s.signal_to_decision)},
                {"decision_to_customer", QuantilesJson(s.decision_to_customer)},
                {"signal_to_customer", QuantilesJson(s.signal_to_customer)}};
  });
  out["receipts"] = receipts ? PerChannel(j, j.receipts, ReceiptsJson) : json(nullptr);
  if (!receipts) {
    out["moment_fit"] = nullptr;
    return out;
  }
  json fit;
  if (total) {
    fit["journeys"] = total->pooled_deadline_journeys;
  } else {
    fit["deadline_seconds"] = j.deadline_us > 0 ? json(Seconds(j.deadline_us)) : json(nullptr);
    fit["deadline_from"] = j.deadline_from.empty() ? json(nullptr) : json(j.deadline_from);
  }
  bool known = total || j.deadline_us > 0;
  fit["channels"] = PerChannel(j, j.fit, [known](const FitCounts& f) {
    return json{{"delivered", f.delivered}, {"within", known ? json(f.within) : json(nullptr)},
                {"rate", known ? Ratio(f.within, f.delivered) : json(nullptr)}};
  });
  out["moment_fit"] = fit;
  return out;
}

}  // namespace

json ReportJson(const Report& r, const Sources& sources) {
  const DecisionInputCounts& d = r.decisions;
  json input = {{"decisions", {{"file", sources.decisions}, {"lines", d.lines},
                               {"decisions", d.decisions}, {"blank_lines", d.blank},
                               {"bad_lines", d.bad}, {"duplicates", d.duplicates},
                               {"sends_without_signal", d.sends_without_signal},
                               {"holdouts_without_entry", d.holdouts_without_entry},
                               {"conversions_without_entry", d.conversions_without_entry}}},
                {"receipts", nullptr}};
  if (r.receipts) {
    const ReceiptInputCounts& c = *r.receipts;
    input["receipts"] = {{"file", sources.receipts}, {"lines", c.lines},
                         {"receipts", c.receipts}, {"blank_lines", c.blank},
                         {"bad_lines", c.bad}, {"duplicates", c.duplicates},
                         {"unknown_decision", c.unknown_decision}, {"not_sent", c.not_sent}};
  }
  json journeys = json::array();
  for (const auto& [name, j] : r.journeys) {
    json one = {{"journey", name}};
    one.update(FiguresJson(j, r.receipts.has_value(), nullptr));
    journeys.push_back(std::move(one));
  }
  json total = FiguresJson(r.total, r.receipts.has_value(), &r);
  return {{"input", input}, {"journeys", journeys}, {"total", total}};
}

}  // namespace juncture::tools::report
