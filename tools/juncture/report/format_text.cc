// ReportText: the report for people, one section per journey and one for all of them.
#include <cstdio>

#include "juncture/report/format.h"
#include "juncture/report/stats.h"
#include "juncture/runtime/event.h"

namespace juncture::tools::report {
namespace {

using Row = std::vector<std::string>;

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string Percent(double share) { return Printf("%.1f%%", 100 * share); }
std::string Points(double difference) { return Printf("%+.1f", 100 * difference); }
std::string Count(uint64_t n) { return std::to_string(n); }

// Display width of UTF-8 text: its code points.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Rows as columns: the first `left` columns (and, with `last_left`, the last)
// left-aligned, the others right-aligned; every line but the first starts with `indent`.
std::string Table(const std::vector<Row>& rows, const std::string& indent, size_t left = 1,
                  bool last_left = false) {
  std::vector<size_t> width;
  for (const Row& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line = r == 0 ? "" : indent;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::string& cell = rows[r][c];
      std::string pad(width[c] - Width(cell), ' ');
      bool to_left = c < left || (last_left && c + 1 == rows[r].size());
      line += (c == 0 ? "" : "  ") + (to_left ? cell + pad : pad + cell);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// "label        text": every section line starts with its label in a 14-column field.
std::string Labelled(const std::string& label, const std::string& text) {
  std::string out = "  " + label;
  out.resize(std::max<size_t>(16, out.size() + 1), ' ');
  return out + text;
}
const std::string kIndent(16, ' ');

std::string EntriesText(const JourneyFigures& j) {
  std::string text = Count(j.entered);
  if (j.entered > 0) {
    text += ": treatment " + Count(j.entered - j.held_out) + ", control (holdout) " +
            Count(j.held_out) + " = " + Percent(double(j.held_out) / double(j.entered));
  }
  return Labelled("entries", text + "; exited " + Count(j.exited) + ", completed " +
                                 Count(j.completed) + "\n");
}

std::string ArmText(const char* name, const Arm& arm) {
  std::string text = std::string(name) + " " + Count(arm.conversions) + " of " + Count(arm.entries);
  auto p = EstimateProportion(arm.conversions, arm.entries);
  if (!p) return text + ": n/a (no entries)";
  return text + " = " + Percent(p->rate) + " (95% CI " + Percent(p->low) + " to " +
         Percent(p->high) + ")";
}

std::string ConversionsText(const JourneyFigures& j, bool total) {
  if (!j.HasGoal()) {
    return Labelled("conversions", j.goal == GoalKnown::kNone
        ? "n/a: the journey has no goal\n"
        : total ? "n/a: no journey with a goal\n"
                : "n/a: no conversion in the log (--program tells whether the journey has a goal)\n");
  }
  std::string out = Labelled("conversions", ArmText("treatment", j.treatment) + "\n") + kIndent +
                    ArmText("control  ", j.control) + "\n";
  auto d = DifferenceOfProportions(j.treatment.conversions, j.treatment.entries,
                                   j.control.conversions, j.control.entries);
  if (!d) {
    out += Labelled("uplift", std::string("n/a (no ") +
                                  (j.control.entries == 0 ? "control" : "treatment") + " entries)\n");
  } else {
    out += Labelled("uplift", Points(d->difference) + " points (95% CI " + Points(d->low) + " to " +
                                  Points(d->high) + "): " +
                                  (d->significant ? "significant" : "not significant") + "\n");
    if (!d->approximation_ok) {
      out += kIndent + "(an arm has fewer than 5 conversions or non-conversions: the interval is rough)\n";
    }
  }
  if (j.converted_before_holdout > 0) {
    out += kIndent + Count(j.converted_before_holdout) +
           " treatment conversion(s) of entries that reached the holdout later\n";
  }
  return out;
}

std::string SendsText(const JourneyFigures& j) {
  if (j.sends.empty()) return Labelled("sends", "none\n");
  std::vector<Row> rows = {{"channel", "sent", "deferred", "control", "suppressed"}};
  for (const auto& [channel, s] : j.sends) {
    std::string suppressed;
    for (const auto& [reason, n] : s.suppressed) {
      suppressed += (suppressed.empty() ? "" : ", ") + reason + " " + Count(n);
    }
    std::string deferred = Count(s.deferred);
    if (s.pending > 0) deferred += " (" + Count(s.pending) + " pending)";
    rows.push_back({channel, Count(s.sent), deferred, Count(s.control),
                    suppressed.empty() ? "-" : suppressed});
  }
  std::string out = Table(rows, kIndent, 1, /*last_left=*/true);
  return Labelled("sends", out);
}

std::string SplitTimesText(const JourneyFigures& j, bool receipts) {
  std::vector<Row> rows = {{"stage", "channel", "count", "p50", "p90", "p99", "max"}};
  auto add = [&](const char* stage, const std::string& channel, const std::vector<int64_t>& s) {
    auto q = ComputeQuantiles(s);
    if (!q) return;
    rows.push_back({stage, channel, Count(q->count), FormatSpan(q->p50), FormatSpan(q->p90),
                    FormatSpan(q->p99), FormatSpan(q->max)});
  };
  for (const auto& [channel, s] : j.splits) add("signal→decision", channel, s.signal_to_decision);
  for (const auto& [channel, s] : j.splits) add("decision→customer", channel, s.decision_to_customer);
  for (const auto& [channel, s] : j.splits) add("signal→customer", channel, s.signal_to_customer);
  if (rows.size() == 1) return Labelled("split times", "none (no sent decision with a signal)\n");
  std::string out = Labelled("split times", Table(rows, kIndent, 2));
  if (!receipts) out += kIndent + "(decision→customer and signal→customer need --receipts)\n";
  return out;
}

std::string ReceiptsText(const JourneyFigures& j) {
  std::vector<Row> rows = {{"channel", "delivered", "opened", "clicked", "failed", "sent, no delivery"}};
  for (const auto& [channel, sends] : j.sends) {
    auto it = j.receipts.find(channel);
    ReceiptCounts r = it == j.receipts.end() ? ReceiptCounts{} : it->second;
    Row row = {channel};
    for (uint64_t n : r.by_status) row.push_back(Count(n));
    row.push_back(Count(r.sent_without_delivery));
    rows.push_back(row);
  }
  return Labelled("receipts", Table(rows, kIndent));
}

std::string FitText(const JourneyFigures& j, bool total) {
  if (!total && j.deadline_us <= 0) {
    return Labelled("moment fit", "n/a: no deadline (--deadline JOURNEY=DURATION or --program)\n");
  }
  if (total && j.fit.empty()) return Labelled("moment fit", "n/a: no journey with a deadline\n");
  std::vector<Row> rows = {{"channel", "within", "delivered", "fit rate"}};
  for (const auto& [channel, sends] : j.sends) {
    auto it = j.fit.find(channel);
    FitCounts f = it == j.fit.end() ? FitCounts{} : it->second;
    rows.push_back({channel, Count(f.within), Count(f.delivered),
                    f.delivered ? Percent(double(f.within) / double(f.delivered)) : "n/a"});
  }
  std::string what = total ? "delivered within their journey's deadline of the signal\n"
                           : "delivered within " + runtime::FormatDuration(j.deadline_us) +
                                 " of the signal (deadline from " +
                                 (j.deadline_from == "option" ? "--deadline" : "the program") + ")\n";
  return Labelled("moment fit", what) + kIndent + Table(rows, kIndent);
}

std::string FiguresText(const JourneyFigures& j, bool receipts, bool total) {
  std::string out = EntriesText(j) + ConversionsText(j, total) + SendsText(j) +
                    SplitTimesText(j, receipts);
  if (receipts) out += ReceiptsText(j) + FitText(j, total);
  return out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string InputText(const Report& r, const Sources& sources) {
  const DecisionInputCounts& d = r.decisions;
  std::string out = "decisions: " + sources.decisions + ": " + Count(d.decisions) + " decisions";
  if (d.bad) out += ", " + Count(d.bad) + " bad lines";
  if (d.duplicates) out += ", " + Count(d.duplicates) + " duplicates ignored";
  if (d.sends_without_signal) out += ", " + Count(d.sends_without_signal) + " sends without a signal";
  if (d.holdouts_without_entry) {
    out += ", " + Count(d.holdouts_without_entry) + " holdouts without their entry in the log";
  }
  if (d.conversions_without_entry) {
    out += ", " + Count(d.conversions_without_entry) +
           " conversions without their entry in the log (not in the rates)";
  }
  out += "\n";
  if (r.receipts) {
    const ReceiptInputCounts& c = *r.receipts;
    out += "receipts:  " + sources.receipts + ": " + Count(c.receipts) + " receipts";
    if (c.bad) out += ", " + Count(c.bad) + " bad lines";
    if (c.duplicates) out += ", " + Count(c.duplicates) + " duplicates ignored";
    if (c.unknown_decision) out += ", " + Count(c.unknown_decision) + " for decisions not in the log";
    if (c.not_sent) out += ", " + Count(c.not_sent) + " for decisions that were not sent";
    out += "\n";
  }
  return out;
}

}  // namespace

std::string FormatSpan(int64_t us) {
  if (us < 1'000'000) {
    int64_t ms = (us + 500) / 1000;
    return ms == 0 && us == 0 ? "0s" : ms == 1000 ? "1s" : std::to_string(ms) + "ms";
  }
  if (us < 60'000'000) return Printf("%.1fs", double(us) / 1e6);
  return runtime::FormatDuration((us + 500'000) / 1'000'000 * 1'000'000);
}

std::string ReportText(const Report& r, const Sources& sources) {
  std::string out = InputText(r, sources);
  bool receipts = r.receipts.has_value();
  for (const auto& [name, j] : r.journeys) {
    out += "\n" + name;
    std::string about;
    if (!j.versions.empty()) about += (j.versions.size() == 1 ? "version " : "versions ") + Join({j.versions.begin(), j.versions.end()});
    if (j.deadline_us > 0) about += (about.empty() ? "" : "; ") + std::string("deadline ") + runtime::FormatDuration(j.deadline_us);
    out += (about.empty() ? "" : "  (" + about + ")") + "\n" + FiguresText(j, receipts, false);
  }
  out += "\nall journeys\n" + FiguresText(r.total, receipts, true);
  if (!r.pooled_goal_journeys.empty()) {
    out += kIndent + "(conversions pooled over the journeys with a goal: " + Join(r.pooled_goal_journeys) + ")\n";
  }
  if (receipts && !r.pooled_deadline_journeys.empty()) {
    out += kIndent + "(moment fit pooled over the journeys with a deadline: " +
           Join(r.pooled_deadline_journeys) + ")\n";
  }
  return out;
}

}  // namespace juncture::tools::report
