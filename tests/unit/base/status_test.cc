// juncture::Status and Result<T> (juncture/status.h): what every library returns.
#include "juncture/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace juncture {
namespace {

TEST(Status, TheDefaultIsOkAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_EQ(s, OkStatus());
  // An ok code keeps no message: ok means ok.
  EXPECT_EQ(Status(StatusCode::kOk, "ignored").message(), "");
}

TEST(Status, AFailureIsACodeAndAMessage) {
  Status s = CorruptionError("snapshot checksum mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "snapshot checksum mismatch");
  EXPECT_EQ(s.ToString(), "corruption: snapshot checksum mismatch");
  EXPECT_NE(s, IoError("snapshot checksum mismatch"));
  EXPECT_NE(s, CorruptionError("another"));
}

TEST(Status, EveryCodeHasItsName) {
  EXPECT_EQ(InvalidArgumentError("x").ToString(), "invalid argument: x");
  EXPECT_EQ(NotFoundError("x").ToString(), "not found: x");
  EXPECT_EQ(CorruptionError("x").ToString(), "corruption: x");
  EXPECT_EQ(IoError("x").ToString(), "i/o error: x");
  EXPECT_EQ(UnavailableError("x").ToString(), "unavailable: x");
  EXPECT_EQ(FailedPreconditionError("x").ToString(), "failed precondition: x");
  EXPECT_EQ(InternalError("x").ToString(), "internal: x");
  EXPECT_STREQ(ToString(static_cast<StatusCode>(200)), "unknown");
}

TEST(Status, WithContextKeepsTheCode) {
  Status s = IoError("disk full").WithContext("state/: ");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "state/: disk full");
  EXPECT_TRUE(OkStatus().WithContext("ignored: ").ok());
  EXPECT_EQ(OkStatus().WithContext("ignored: ").message(), "");
}

Result<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgumentError(std::to_string(n) + " is odd");
  return n / 2;
}

TEST(Result, HoldsAValueOrTheStatusOfWhyNot) {
  Result<int> four = Half(8);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(*four, 4);
  EXPECT_EQ(four.value(), 4);
  EXPECT_TRUE(four.status().ok());

  Result<int> odd = Half(7);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().ToString(), "invalid argument: 7 is odd");
  // Reading a value that is not there is a bug, not a failure report.
  EXPECT_THROW(static_cast<void>(odd.value()), std::bad_variant_access);
}

TEST(Result, AnOkStatusIsNoValueAndBecomesAnInternalError) {
  Result<int> r = OkStatus();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Result, MoveOnlyValuesMoveOut) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("kept");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get()->size(), 4u);
  std::unique_ptr<std::string> taken = *std::move(r);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "kept");
}

struct Base {
  virtual ~Base() = default;
  virtual int Id() const { return 1; }
};
struct Derived : Base {
  int Id() const override { return 2; }
};

Result<std::string> Named() { return "a literal"; }
Result<std::unique_ptr<Base>> Made() { return std::make_unique<Derived>(); }

TEST(Result, TakesWhatItsValueIsImplicitlyBuiltFrom) {
  EXPECT_EQ(*Named(), "a literal");
  Result<std::unique_ptr<Base>> made = Made();
  ASSERT_TRUE(made.ok());
  EXPECT_EQ((*made)->Id(), 2);
  // But a Result<bool> takes no pointer (a string would be "true") and no number.
  static_assert(!std::is_convertible_v<const char*, Result<bool>>);
  static_assert(!std::is_convertible_v<int, Result<bool>>);
  static_assert(std::is_convertible_v<bool, Result<bool>>);
  Result<bool> yes = true;
  EXPECT_TRUE(*yes);
}

}  // namespace
}  // namespace juncture
