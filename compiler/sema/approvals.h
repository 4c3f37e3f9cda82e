// The approvals ledger (`approvals.json` beside the scripts, docs/language.md) and the
// content hash that identifies a journey version.
//
// Format (documented in docs/approvals.md):
//   {"approvals": [{"journey": "cart_rescue", "hash": "3f9a…", "role": "marketing",
//                   "by": "ana@example.com", "at": "2026-11-23T10:00:00Z"}, …]}
// A journey is approved when every role it requires has a record for its current hash.
#pragma once

#include <string>
#include <vector>

#include "ast/ast.h"
#include "juncture/status.h"

namespace juncture::compiler {

struct ApprovalRecord {
  std::string journey;
  std::string hash;
  std::string role;
  std::string by;
  std::string at;  // ISO-8601
};

class ApprovalLedger {
 public:
  // Parses ledger JSON; an invalid-argument error on malformed input.
  Status Parse(const std::string& json_text);
  // Serialises the ledger (stable order: as recorded).
  std::string ToJson() const;

  // True if `role` approved `journey` at version `hash`.
  bool Approved(const std::string& journey, const std::string& hash,
                const std::string& role) const;
  void Add(ApprovalRecord record);
  const std::vector<ApprovalRecord>& records() const { return records_; }

 private:
  std::vector<ApprovalRecord> records_;
};

// The content hash of a journey version: SHA-256 (first 16 hex digits) of its
// canonical source (formatter output), so comments and layout do not change it but
// any change of meaning does.
std::string JourneyHash(const ast::JourneyDecl& journey);

}  // namespace juncture::compiler
