// GoogleTest helpers for juncture::Status and Result<T>: a failure prints the status.
//
//   ASSERT_OK(engine.LoadSnapshot(bytes));
//   EXPECT_OK(store->Commit(engine, "1", true));
#pragma once

#include <gtest/gtest.h>

#include "juncture/status.h"

namespace juncture::statustest {

inline ::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

template <typename T>
::testing::AssertionResult IsOk(const Result<T>& result) {
  return IsOk(result.status());
}

}  // namespace juncture::statustest

#define ASSERT_OK(expr) ASSERT_TRUE(::juncture::statustest::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::juncture::statustest::IsOk(expr))
