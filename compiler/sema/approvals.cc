#include "sema/approvals.h"

#include <openssl/evp.h>

#include <set>

#include <nlohmann/json.hpp>

#include "ast/formatter.h"
#include "sema/checker.h"

namespace juncture::compiler {

Status ApprovalLedger::Parse(const std::string& json_text) {
  records_.clear();
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("approvals") ||
      !doc["approvals"].is_array()) {
    return InvalidArgumentError("expected a JSON object {\"approvals\": [...]}");
  }
  for (const auto& item : doc["approvals"]) {
    auto text = [&](const char* key) -> std::string {
      auto it = item.find(key);
      return it != item.end() && it->is_string() ? it->get<std::string>() : "";
    };
    if (!item.is_object() || text("journey").empty() || text("hash").empty() ||
        text("role").empty()) {
      return InvalidArgumentError("every approval needs string fields journey, hash and role");
    }
    records_.push_back({text("journey"), text("hash"), text("role"), text("by"), text("at")});
  }
  return OkStatus();
}

std::string ApprovalLedger::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const ApprovalRecord& r : records_) {
    list.push_back({{"journey", r.journey}, {"hash", r.hash}, {"role", r.role},
                    {"by", r.by}, {"at", r.at}});
  }
  return nlohmann::json{{"approvals", list}}.dump(2) + "\n";
}

bool ApprovalLedger::Approved(const std::string& journey, const std::string& hash,
                              const std::string& role) const {
  for (const ApprovalRecord& r : records_) {
    if (r.journey == journey && r.hash == hash && r.role == role) return true;
  }
  return false;
}

void ApprovalLedger::Add(ApprovalRecord record) { records_.push_back(std::move(record)); }

std::string JourneyHash(const ast::JourneyDecl& journey) {
  std::string text = ast::FormatDecl(journey);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < 8 && i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

// Required roles are the journey's own `approvals` plus the `approval` roles of every
// channel it sends on. A journey that misses any compiles with every send suppressed
// (reason unapproved), and lint says so.
void Checker::ComputeApprovals(JourneyInfo& info) {
  const ast::JourneyDecl& j = *info.decl;
  std::set<std::string> roles;
  for (const ast::NameRef& r : j.approvals) roles.insert(r.name);
  for (const ast::SendStep* s : sends_) {
    if (!s->channel_decl) continue;
    for (const ast::NameRef& r : s->channel_decl->approval_roles) roles.insert(r.name);
  }
  info.hash = JourneyHash(j);
  info.required_roles.assign(roles.begin(), roles.end());
  for (const std::string& role : roles) {
    if (!options_.ledger || !options_.ledger->Approved(j.name, info.hash, role)) {
      info.missing_roles.push_back(role);
    }
  }
  if (info.missing_roles.empty()) return;
  std::string missing;
  for (const std::string& r : info.missing_roles) missing += (missing.empty() ? "" : ", ") + r;
  sink_.Warning(WarnCode::kUnapproved, j.name_range,
                "journey '" + j.name + "' version " + info.hash + " is not approved by " +
                    missing + ": every send will be suppressed (reason unapproved); record "
                    "approvals with 'juncture approve'");
}

}  // namespace juncture::compiler
