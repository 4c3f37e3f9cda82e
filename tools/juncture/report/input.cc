#include "juncture/report/input.h"

#include <nlohmann/json.hpp>

#include "juncture/runtime/event.h"

namespace juncture::tools::report {
namespace {

using nlohmann::json;

// The object of a JSON line, or nullopt with `error` set.
std::optional<json> ParseObject(std::string_view line, std::string& error) {
  json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error = "not JSON";
    return std::nullopt;
  }
  if (!doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  return doc;
}

// Reads the non-empty string field `key` into `out`; else sets `error`.
bool RequireString(const json& doc, const char* key, std::string& out, std::string& error) {
  auto it = doc.find(key);
  if (it == doc.end()) {
    error = std::string("no \"") + key + "\"";
    return false;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    error = std::string("\"") + key + "\" is not a non-empty string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

// Reads the optional string field `key`; a present field must be a non-empty string.
bool OptionalString(const json& doc, const char* key, std::string& out, std::string& error) {
  if (!doc.contains(key)) return true;
  return RequireString(doc, key, out, error);
}

bool ParseTime(const std::string& text, const char* key, int64_t& us, std::string& error) {
  if (runtime::ParseTimestamp(text, us)) return true;
  error = std::string("\"") + key + "\" is not an ISO-8601 time";
  return false;
}

bool KnownOutcome(const std::string& o) {
  static const char* const kOutcomes[] = {"sent",      "deferred", "suppressed", "control",
                                          "converted", "entered",  "exited",     "completed"};
  for (const char* k : kOutcomes) {
    if (o == k) return true;
  }
  return false;
}

}  // namespace

std::string ParseDecisionLine(std::string_view line, DecisionLine& out) {
  std::string error;
  std::optional<json> doc = ParseObject(line, error);
  if (!doc) return error;
  out = DecisionLine{};
  std::string at, signal;
  if (!RequireString(*doc, "id", out.id, error) ||
      !RequireString(*doc, "customer", out.customer, error) ||
      !RequireString(*doc, "journey", out.journey, error) ||
      !RequireString(*doc, "outcome", out.outcome, error) ||
      !RequireString(*doc, "at", at, error) || !ParseTime(at, "at", out.at_us, error) ||
      !OptionalString(*doc, "version", out.version, error) ||
      !OptionalString(*doc, "step", out.step, error) ||
      !OptionalString(*doc, "channel", out.channel, error) ||
      !OptionalString(*doc, "signal", signal, error)) {
    return error;
  }
  if (!KnownOutcome(out.outcome)) return "unknown outcome \"" + out.outcome + "\"";
  bool send = out.outcome == "sent" || out.outcome == "deferred" || out.outcome == "suppressed";
  if (send && out.channel.empty()) return "a " + out.outcome + " decision without \"channel\"";
  if (out.outcome == "suppressed" && !RequireString(*doc, "reason", out.reason, error)) return error;
  if (out.outcome == "converted") {
    if (!RequireString(*doc, "arm", out.arm, error)) return error;
    if (out.arm != "treatment" && out.arm != "control") {
      return "\"arm\" is \"" + out.arm + "\", not treatment or control";
    }
  }
  if (!signal.empty()) {
    int64_t us = 0;
    if (!ParseTime(signal, "signal", us, error)) return error;
    out.signal_us = us;
  }
  out.release = out.id.ends_with(":release");
  return "";
}

const char* ReceiptStatusName(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::kDelivered: return "delivered";
    case ReceiptStatus::kOpened: return "opened";
    case ReceiptStatus::kClicked: return "clicked";
    case ReceiptStatus::kFailed: return "failed";
  }
  return "?";
}

std::string ParseReceiptLine(std::string_view line, ReceiptLine& out) {
  std::string error;
  std::optional<json> doc = ParseObject(line, error);
  if (!doc) return error;
  out = ReceiptLine{};
  std::string status, at;
  if (!RequireString(*doc, "decision", out.decision, error) ||
      !RequireString(*doc, "status", status, error) || !RequireString(*doc, "at", at, error) ||
      !ParseTime(at, "at", out.at_us, error)) {
    return error;
  }
  for (int i = 0; i < kReceiptStatuses; ++i) {
    auto s = static_cast<ReceiptStatus>(i);
    if (status == ReceiptStatusName(s)) {
      out.status = s;
      return "";
    }
  }
  return "unknown status \"" + status + "\"";
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace juncture::tools::report
