// Approvals (§7): a journey needing roles compiles live only when each role approved
// its current hash; stale hashes and missing roles leave it unapproved.
#include "sema/approvals.h"

#include <gtest/gtest.h>

#include "../test_util.h"
#include "ir/ir.h"
#include "sema/sema.h"

namespace juncture::compiler {
namespace {

using juncture::testing::CompileOne;

const char* kProgram =
    "event signup { }\nprofile { }\n"
    "channel email { consent true  approval legal }\n"
    "channel push { consent true }\n"
    "journey welcome { approvals marketing  on signup  send email \"hi\" }\n"
    "journey nudge { on signup  send push \"hey\" }\n";

std::string Ledger(const std::string& hash, const std::vector<std::string>& roles) {
  ApprovalLedger l;
  for (const std::string& r : roles) l.Add({"welcome", hash, r, "ana@example.com", "2026-11-23T10:00:00Z"});
  return l.ToJson();
}

const ir::Journey& Find(const Compilation& c, const std::string& name) {
  for (const ir::Journey& j : c.ir()->journeys) {
    if (j.name == name) return j;
  }
  static ir::Journey none;
  return none;
}

TEST(ApprovalsTest, MissingApprovalsSuppressEverySend) {
  auto c = CompileOne(kProgram);
  ASSERT_TRUE(c->ok());
  const ir::Journey& w = Find(*c, "welcome");
  EXPECT_FALSE(w.approved);
  EXPECT_EQ(w.missing_roles, (std::vector<std::string>{"legal", "marketing"}));
  EXPECT_TRUE(Find(*c, "nudge").approved);  // needs no role
}

TEST(ApprovalsTest, AllRolesOnTheCurrentHashApprove) {
  std::string hash = CompileOne(kProgram)->sema()->journeys[0].hash;
  ASSERT_EQ(hash.size(), 16u);
  auto c = CompileOne(kProgram, Ledger(hash, {"legal", "marketing"}));
  ASSERT_TRUE(c->ok());
  EXPECT_TRUE(Find(*c, "welcome").approved);
  for (const auto& d : c->diagnostics()) EXPECT_NE(d.code, WarnCode::kUnapproved);
}

TEST(ApprovalsTest, OneMissingRoleOrAStaleHashIsNotEnough) {
  std::string hash = CompileOne(kProgram)->sema()->journeys[0].hash;
  auto partial = CompileOne(kProgram, Ledger(hash, {"legal"}));
  EXPECT_EQ(Find(*partial, "welcome").missing_roles, (std::vector<std::string>{"marketing"}));
  auto stale = CompileOne(kProgram, Ledger("0123456789abcdef", {"legal", "marketing"}));
  EXPECT_FALSE(Find(*stale, "welcome").approved);
}

TEST(ApprovalsTest, HashIgnoresLayoutButNotMeaning) {
  std::string a = CompileOne(kProgram)->sema()->journeys[0].hash;
  std::string spaced = kProgram;
  spaced.replace(spaced.find("journey welcome {"), 17, "// comment\njourney   welcome  {\n");
  EXPECT_EQ(CompileOne(spaced)->sema()->journeys[0].hash, a);
  std::string changed = kProgram;
  changed.replace(changed.find("\"hi\""), 4, "\"hello\"");
  EXPECT_NE(CompileOne(changed)->sema()->journeys[0].hash, a);
}

TEST(ApprovalsTest, MalformedLedgerIsAnError) {
  auto c = CompileOne(kProgram, "{\"approvals\": [{\"journey\": 3}]}");
  EXPECT_FALSE(c->ok());
  EXPECT_NE(juncture::testing::Brief(*c).find("every approval needs string fields"),
            std::string::npos);
}

}  // namespace
}  // namespace juncture::compiler
