// juncture report DECISIONS [--receipts FILE] [--format text|json]
//                 [--deadline JOURNEY=DURATION]... [--program PATH... [--approvals FILE]]
// Whether journeys worked and whether their messages landed in the customer's moment,
// from a decision log (what `juncture run` prints, or a recording of
// juncture.decisions.>) and optional delivery receipts: entries and holdout, sends by
// outcome, conversions and uplift per arm, split-time quantiles and the moment fit
// rate (docs/report.md). Bad lines are counted and named on stderr, never fatal.
// Exit 0 ok, 1 an input cannot be read or the program does not compile, 2 usage.
#include <fstream>
#include <iostream>
#include <map>

#include "juncture/commands.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/program_options.h"
#include "juncture/report/format.h"
#include "juncture/report/input.h"
#include "juncture/report/tally.h"
#include "juncture/runtime/event.h"

namespace juncture::tools {
namespace {

using report::JourneyInfo;

struct ReportOptions {
  std::string decisions;
  std::string receipts;
  std::string format = "text";
  std::vector<std::string> deadlines;  // JOURNEY=DURATION
  std::vector<std::string> program;
  std::string approvals;
};

// Bad lines are named on stderr, at most this many per file, then counted.
constexpr uint64_t kBadLinesShown = 100;

// "JOURNEY=DURATION" with a duration longer than 0s; false if malformed.
bool ParseDeadline(const std::string& text, std::string& journey, int64_t& us) {
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0) return false;
  journey = text.substr(0, eq);
  return runtime::ParseDuration(text.substr(eq + 1), us) && us > 0;
}

// Reads `in` line by line; `add` takes each line that is neither blank nor bad.
template <typename Line, typename Parse, typename Add>
void ReadLines(std::istream& in, const std::string& name, Parse parse, Add add,
               std::function<void()> blank, std::function<void()> bad) {
  std::string text;
  uint64_t number = 0, shown = 0, hidden = 0;
  Line line;
  while (std::getline(in, text)) {
    ++number;
    if (report::IsBlank(text)) {
      blank();
      continue;
    }
    Status parsed = parse(text, line);
    if (parsed.ok()) {
      add(line);
      continue;
    }
    bad();
    if (shown++ < kBadLinesShown) {
      std::cerr << "juncture report: " << name << ":" << number << ": " << parsed.message() << "\n";
    } else {
      ++hidden;
    }
  }
  if (hidden) std::cerr << "juncture report: " << name << ": " << hidden << " more bad lines\n";
}

// The journeys' deadlines and goals from the program, under the --deadline options.
// False (after printing why) if the program does not compile.
bool ProgramInfo(const ReportOptions& o, std::map<std::string, JourneyInfo>& info,
                 std::map<std::string, std::string>& versions) {
  ProgramOptions program{o.program, {}, o.approvals};
  auto options = MakeCompileOptions(program, nullptr);
  options->warnings.DisableAll();
  auto c = compiler::CompileFiles(o.program, *options);
  if (!c->ok()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return false;
  }
  runtime::CompiledProgram compiled = *compiler::MakeInterpretedProgram(*c);
  for (const runtime::JourneySpec& j : compiled.spec->journeys) {
    JourneyInfo& i = info[j.name];
    i.has_goal = j.goal.has_value();
    versions[j.name] = j.version;
    if (i.deadline_us == 0 && j.deadline_us > 0) i = {j.deadline_us, "program", i.has_goal};
  }
  return true;
}

// Warnings about options that do not match the log.
void WarnAboutInfo(const report::Report& r, const std::map<std::string, JourneyInfo>& info,
                   const std::map<std::string, std::string>& program_versions) {
  for (const auto& [name, i] : info) {
    if (i.deadline_from == "option" && !r.journeys.count(name)) {
      std::cerr << "juncture report: --deadline " << name << ": no decision of that journey in the log\n";
    }
  }
  for (const auto& [name, version] : program_versions) {
    auto it = r.journeys.find(name);
    if (it == r.journeys.end() || it->second.versions.empty() || it->second.versions.count(version)) {
      continue;
    }
    std::cerr << "juncture report: journey " << name << ": the program has version " << version
              << ", the log has " << *it->second.versions.begin()
              << (it->second.versions.size() > 1 ? " and others" : "")
              << ": its deadline and goal may have changed\n";
  }
}

int RunReport(const ReportOptions& o) {
  std::map<std::string, JourneyInfo> info;
  for (const std::string& d : o.deadlines) {
    std::string journey;
    int64_t us = 0;
    ParseDeadline(d, journey, us);  // checked by the option's validator
    if (info.count(journey)) {
      std::cerr << "juncture report: --deadline " << journey << " is given twice\n";
      return 2;
    }
    info[journey] = {us, "option", std::nullopt};
  }
  std::map<std::string, std::string> program_versions;
  if (!o.program.empty() && !ProgramInfo(o, info, program_versions)) return 1;

  std::ifstream decisions_file, receipts_file;
  std::istream* decisions = &std::cin;
  if (o.decisions != "-") {
    decisions_file.open(o.decisions, std::ios::binary);
    decisions = &decisions_file;
  }
  if (!*decisions) {
    std::cerr << "juncture report: cannot read " << o.decisions << "\n";
    return 1;
  }
  if (!o.receipts.empty()) {
    receipts_file.open(o.receipts, std::ios::binary);
    if (!receipts_file) {
      std::cerr << "juncture report: cannot read " << o.receipts << "\n";
      return 1;
    }
  }

  report::Sources sources{o.decisions == "-" ? "stdin" : o.decisions, o.receipts};
  report::Tally tally;
  ReadLines<report::DecisionLine>(
      *decisions, sources.decisions, report::ParseDecisionLine,
      [&](const report::DecisionLine& d) { tally.AddDecision(d); },
      [&] { tally.AddBlankDecisionLine(); }, [&] { tally.AddBadDecisionLine(); });
  if (decisions->bad()) {
    std::cerr << "juncture report: cannot read " << o.decisions << "\n";
    return 1;
  }
  if (!o.receipts.empty()) {
    tally.StartReceipts();
    ReadLines<report::ReceiptLine>(
        receipts_file, o.receipts, report::ParseReceiptLine,
        [&](const report::ReceiptLine& r) { tally.AddReceipt(r); },
        [&] { tally.AddBlankReceiptLine(); }, [&] { tally.AddBadReceiptLine(); });
    if (receipts_file.bad()) {
      std::cerr << "juncture report: cannot read " << o.receipts << "\n";
      return 1;
    }
  }
  report::Report r = tally.Finish(info);
  WarnAboutInfo(r, info, program_versions);

  if (o.format == "json") {
    std::cout << report::ReportJson(r, sources).dump(2, ' ', false,
                                                    nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << report::ReportText(r, sources);
  }
  std::cerr << "juncture report: " << r.decisions.decisions << " decisions, "
            << r.decisions.bad << " bad lines, " << r.decisions.duplicates << " duplicates";
  if (r.decisions.sends_without_signal) {
    std::cerr << ", " << r.decisions.sends_without_signal << " sends without a signal";
  }
  if (r.receipts) {
    std::cerr << "; " << r.receipts->receipts << " receipts, " << r.receipts->bad << " bad lines, "
              << r.receipts->duplicates << " duplicates, " << r.receipts->unknown_decision
              << " for unknown decisions, " << r.receipts->not_sent << " for decisions not sent";
  }
  std::cerr << "\n";
  return 0;
}

}  // namespace

Runner AddReportCommand(CLI::App& cmd) {
  auto o = std::make_shared<ReportOptions>();
  cmd.add_option("decisions", o->decisions, "decision log (JSON lines), - for stdin")->required();
  cmd.add_option("--receipts", o->receipts,
                 "delivery receipts (JSON lines: decision, status, at)");
  cmd.add_option("--format", o->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  CLI::Validator deadline(
      [](std::string& text) {
        std::string journey;
        int64_t us = 0;
        return ParseDeadline(text, journey, us)
                   ? std::string()
                   : "wants JOURNEY=DURATION with a duration like 10m or 1h30m (units w d h m s)";
      },
      "JOURNEY=DURATION");
  cmd.add_option("--deadline", o->deadlines,
                 "a journey's deadline for the moment fit rate (repeatable; over the program's)")
      ->check(deadline)
      ->allow_extra_args(false);
  cmd.add_option("--program", o->program,
                 ".jny files or directories, as for run: deadlines and goals of the journeys");
  cmd.add_option("--approvals", o->approvals, "approvals ledger of --program");
  return [o] { return RunReport(*o); };
}

}  // namespace juncture::tools
