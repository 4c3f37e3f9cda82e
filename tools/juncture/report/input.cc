#include "juncture/report/input.h"

#include <nlohmann/json.hpp>

#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"

namespace juncture::tools::report {
namespace {

using nlohmann::json;

// The object of a JSON line.
Result<json> ParseObject(std::string_view line) {
  json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("not JSON");
  if (!doc.is_object()) return InvalidArgumentError("not a JSON object");
  return doc;
}

// Reads the non-empty string field `key` into `out`.
Status RequireString(const json& doc, const char* key, std::string& out) {
  auto it = doc.find(key);
  if (it == doc.end()) return InvalidArgumentError(std::string("no \"") + key + "\"");
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return InvalidArgumentError(std::string("\"") + key + "\" is not a non-empty string");
  }
  out = it->get<std::string>();
  return OkStatus();
}

// Reads the optional string field `key`; a present field must be a non-empty string.
Status OptionalString(const json& doc, const char* key, std::string& out) {
  if (!doc.contains(key)) return OkStatus();
  return RequireString(doc, key, out);
}

Status ParseTime(const std::string& text, const char* key, int64_t& us) {
  if (runtime::ParseTimestamp(text, us)) return OkStatus();
  return InvalidArgumentError(std::string("\"") + key + "\" is not an ISO-8601 time");
}

}  // namespace

Status ParseDecisionLine(std::string_view line, DecisionLine& out) {
  Result<json> doc = ParseObject(line);
  if (!doc.ok()) return doc.status();
  out = DecisionLine{};
  std::string at, signal;
  // The first field that is missing or mistyped, in this order.
  for (Status s : {RequireString(*doc, "id", out.id), RequireString(*doc, "customer", out.customer),
                   RequireString(*doc, "journey", out.journey),
                   RequireString(*doc, "outcome", out.outcome), RequireString(*doc, "at", at)}) {
    if (!s.ok()) return s;
  }
  if (Status s = ParseTime(at, "at", out.at_us); !s.ok()) return s;
  for (Status s :
       {OptionalString(*doc, "version", out.version), OptionalString(*doc, "step", out.step),
        OptionalString(*doc, "channel", out.channel), OptionalString(*doc, "signal", signal)}) {
    if (!s.ok()) return s;
  }
  if (!runtime::ParseOutcome(out.outcome)) {
    return InvalidArgumentError("unknown outcome \"" + out.outcome + "\"");
  }
  bool send = out.outcome == "sent" || out.outcome == "deferred" || out.outcome == "suppressed";
  if (send && out.channel.empty()) {
    return InvalidArgumentError("a " + out.outcome + " decision without \"channel\"");
  }
  if (out.outcome == "suppressed") {
    if (Status s = RequireString(*doc, "reason", out.reason); !s.ok()) return s;
  }
  if (out.outcome == "converted") {
    if (Status s = RequireString(*doc, "arm", out.arm); !s.ok()) return s;
    if (out.arm != "treatment" && out.arm != "control") {
      return InvalidArgumentError("\"arm\" is \"" + out.arm + "\", not treatment or control");
    }
  }
  if (!signal.empty()) {
    int64_t us = 0;
    if (Status s = ParseTime(signal, "signal", us); !s.ok()) return s;
    out.signal_us = us;
  }
  out.release = out.id.ends_with(":release");
  return OkStatus();
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

Status ParseReceiptLine(std::string_view line, ReceiptLine& out) {
  Result<json> doc = ParseObject(line);
  if (!doc.ok()) return doc.status();
  out = ReceiptLine{};
  std::string status, at;
  for (Status s : {RequireString(*doc, "decision", out.decision),
                   RequireString(*doc, "status", status), RequireString(*doc, "at", at)}) {
    if (!s.ok()) return s;
  }
  if (Status s = ParseTime(at, "at", out.at_us); !s.ok()) return s;
  for (int i = 0; i < kReceiptStatuses; ++i) {
    auto s = static_cast<ReceiptStatus>(i);
    if (status == ReceiptStatusName(s)) {
      out.status = s;
      return OkStatus();
    }
  }
  return InvalidArgumentError("unknown status \"" + status + "\"");
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace juncture::tools::report
