#include "juncture/compiler/diagnostic.h"

#include <algorithm>
#include <array>
#include <map>

#include <nlohmann/json.hpp>

namespace juncture::compiler {
namespace {

constexpr std::array<std::string_view, kWarnCodeCount> kWarnNames = {
    "",
    "unused-segment",
    "unused-const",
    "constant-condition",
    "unreachable-step",
    "wait-without-exit",
    "channel-without-consent",
    "unapproved",
    "needless-optional-check",
    "unused-limit",
};

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

// Appends a source line, with each byte of an invalid UTF-8 sequence shown as '?'
// so that a diagnostic about broken input is itself valid text.
void AppendPrintable(std::string_view line, std::string& out) {
  while (!line.empty()) {
    int64_t bad = FindInvalidUtf8(line);
    if (bad < 0) {
      out += line;
      return;
    }
    out += line.substr(0, static_cast<size_t>(bad));
    out += '?';
    line.remove_prefix(static_cast<size_t>(bad) + 1);
  }
}

// Appends "file:line:col: severity: message [-Wcode]" plus source line and caret.
void FormatOne(const SourceManager& sm, Severity sev, WarnCode code, ErrorCode error,
               const SourceRange& r, const std::string& message, std::string& out) {
  const SourceLoc& b = r.begin;
  if (b.file != kNoFile && b.file < sm.size()) {
    out += sm.file(b.file).path;
    out += ':';
    out += std::to_string(b.line) + ':' + std::to_string(b.column) + ": ";
  }
  out += SeverityName(sev);
  out += ": ";
  out += message;
  if (code != WarnCode::kNone) {
    out += " [-W";
    out += WarnCodeName(code);
    out += ']';
  } else if (error != ErrorCode::kNone) {
    out += " [";
    out += ErrorCodeName(error);
    out += ']';
  }
  out += '\n';
  if (!b.valid() || b.file >= sm.size()) return;
  std::string_view line = sm.LineText(b.file, b.line);
  out += "  ";
  AppendPrintable(line, out);
  out += "\n  ";
  // Walk code points up to the column, copying tabs so the caret lines up.
  uint32_t col = 1;
  size_t i = 0;
  for (; i < line.size() && col < b.column; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;
    out += (c == '\t') ? '\t' : ' ';
    ++col;
  }
  out += '^';
  if (r.end.file == b.file && r.end.line == b.line && r.end.column > b.column + 1) {
    out.append(r.end.column - b.column - 1, '~');
  }
  out += '\n';
}

}  // namespace

std::string_view WarnCodeName(WarnCode code) {
  auto i = static_cast<size_t>(code);
  return i < kWarnNames.size() ? kWarnNames[i] : "";
}

std::optional<WarnCode> WarnCodeFromName(std::string_view name) {
  for (size_t i = 1; i < kWarnNames.size(); ++i) {
    if (kWarnNames[i] == name) return static_cast<WarnCode>(i);
  }
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, kErrorCodeCount + 1> kErrorNames = {
    "",               "syntax",          "source",           "too-complex",
    "duplicate",      "unknown-name",    "unknown-event",    "unknown-field",
    "unknown-function", "unknown-type",  "unknown-channel",  "unknown-time-zone",
    "time-zone-field", "type",           "optional",         "binding",
    "constant",       "cycle",           "invalid-value",    "split-percent",
    "limit",          "journey-structure", "approvals",      "internal"};
}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  auto i = static_cast<size_t>(code);
  return i < kErrorNames.size() ? kErrorNames[i] : "";
}

// The code a diagnostic shows: a warning's or an error's name ("" for a note).
std::string CodeName(const Diagnostic& d) {
  if (d.code != WarnCode::kNone) return std::string(WarnCodeName(d.code));
  return std::string(ErrorCodeName(d.error));
}

void DiagnosticSink::Error(ErrorCode code, SourceRange range, std::string message) {
  diagnostics_.push_back({Severity::kError, WarnCode::kNone, code, range, std::move(message), {}});
  ++error_count_;
  last_dropped_ = false;
}

void DiagnosticSink::Warning(WarnCode code, SourceRange range, std::string message) {
  last_dropped_ = !warnings_.enabled(code);
  if (last_dropped_) return;
  diagnostics_.push_back(
      {Severity::kWarning, code, ErrorCode::kNone, range, std::move(message), {}});
}

void DiagnosticSink::Note(SourceRange range, std::string message) {
  if (last_dropped_ || diagnostics_.empty()) return;
  diagnostics_.back().notes.emplace_back(range, std::move(message));
}

void DiagnosticSink::SortByLocation() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.range.begin < b.range.begin;
                   });
}

std::string FormatText(const SourceManager& sm, const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const Diagnostic& d : diags) {
    FormatOne(sm, d.severity, d.code, d.error, d.range, d.message, out);
    for (const auto& [range, text] : d.notes) {
      FormatOne(sm, Severity::kNote, WarnCode::kNone, ErrorCode::kNone, range, text, out);
    }
  }
  return out;
}

std::string FormatJson(const SourceManager& sm, const std::vector<Diagnostic>& diags) {
  auto location = [&](const SourceRange& r, nlohmann::json& j) {
    const SourceLoc& b = r.begin;
    j["file"] = b.file < sm.size() ? sm.file(b.file).path : "";
    j["line"] = b.line;
    j["column"] = b.column;
    j["end_line"] = r.end.line;
    j["end_column"] = r.end.column;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : diags) {
    nlohmann::json j;
    location(d.range, j);
    j["severity"] = SeverityName(d.severity);
    j["code"] = CodeName(d);
    j["message"] = d.message;
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& [range, text] : d.notes) {
      nlohmann::json n;
      location(range, n);
      n["message"] = text;
      notes.push_back(std::move(n));
    }
    j["notes"] = std::move(notes);
    out.push_back(std::move(j));
  }
  // error_handler_t::replace: a message quoting broken input never throws here.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string FormatSarif(const SourceManager& sm, const std::vector<Diagnostic>& diags) {
  // A region with its end: SARIF's end column is the column after the last character,
  // as our ranges' ends are.
  auto location = [&](const SourceRange& r) {
    const SourceLoc& b = r.begin;
    nlohmann::json region = {{"startLine", b.line}, {"startColumn", b.column}};
    if (r.end.line >= b.line && r.end.line != 0) {
      region["endLine"] = r.end.line;
      region["endColumn"] = std::max<uint32_t>(r.end.column, r.end.line == b.line ? b.column + 1 : 1);
    }
    return nlohmann::json{
        {"physicalLocation",
         {{"artifactLocation", {{"uri", sm.file(b.file).path}}}, {"region", region}}}};
  };
  nlohmann::json results = nlohmann::json::array();
  std::map<std::string, std::string> rules;  // id -> level
  for (const Diagnostic& d : diags) {
    const std::string rule = CodeName(d);
    rules.emplace(rule, d.severity == Severity::kError ? "error" : "warning");
    nlohmann::json result = {{"ruleId", rule},
                             {"level", d.severity == Severity::kError ? "error" : "warning"},
                             {"message", {{"text", d.message}}}};
    const SourceLoc& b = d.range.begin;
    if (b.file < sm.size() && b.valid()) {
      result["locations"] = nlohmann::json::array({location(d.range)});
    }
    nlohmann::json related = nlohmann::json::array();
    for (const auto& [range, text] : d.notes) {
      if (range.begin.file >= sm.size() || !range.begin.valid()) continue;
      nlohmann::json r = location(range);
      r["id"] = related.size();
      r["message"] = {{"text", text}};
      related.push_back(std::move(r));
    }
    if (!related.empty()) result["relatedLocations"] = std::move(related);
    results.push_back(std::move(result));
  }
  nlohmann::json rule_list = nlohmann::json::array();
  for (const auto& [id, level] : rules) {
    rule_list.push_back({{"id", id}, {"defaultConfiguration", {{"level", level}}},
                         {"helpUri", "docs/diagnostics.md"}});
  }
  nlohmann::json log = {
      {"version", "2.1.0"},
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"runs", nlohmann::json::array({{{"tool", {{"driver", {{"name", "juncture"},
                                                             {"informationUri", "docs/diagnostics.md"},
                                                             {"rules", rule_list}}}}},
                                       {"results", results}}})}};
  return log.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace juncture::compiler
