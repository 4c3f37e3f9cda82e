// serve/receipts.h: delivery receipts matched to sent actions, within bounds.
#include "receipts.h"  // serve/, a private header of juncture_serve

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "juncture/runtime/event.h"

namespace juncture::serve {
namespace {

constexpr int64_t kSecond = 1'000'000;

int64_t T(const char* iso) {
  int64_t us = 0;
  EXPECT_TRUE(runtime::ParseTimestamp(iso, us)) << iso;
  return us;
}

std::string Receipt(const std::string& id, const std::string& status, const std::string& at) {
  return R"({"decision":")" + id + R"(","status":")" + status + R"(","at":")" + at + R"("})";
}

TEST(ReceiptBook, ADeliveredReceiptGivesTheSplitTimesAndTheMomentFit) {
  ReceiptBook book(3600 * kSecond, 100);
  const int64_t signal = T("2026-06-01T12:00:00Z");
  book.Sent("m1:j:s1", "j", "email", signal, signal + 2 * kSecond, 10 * kSecond);
  book.Sent("m2:j:s1", "j", "email", signal, signal + 2 * kSecond, 10 * kSecond);
  book.Sent("m3:k:s1", "k", "push", signal, signal, 0);  // no deadline
  auto in = book.Receive(Receipt("m1:j:s1", "delivered", "2026-06-01T12:00:07Z"), signal);
  EXPECT_EQ(in.result, ReceiptBook::Result::kMatched);
  EXPECT_EQ(in.journey, "j");
  EXPECT_EQ(in.channel, "email");
  EXPECT_EQ(in.action_to_customer_us, 5 * kSecond);
  EXPECT_EQ(in.signal_to_customer_us, 7 * kSecond);
  EXPECT_EQ(in.fit, 1);
  auto late = book.Receive(Receipt("m2:j:s1", "delivered", "2026-06-01T12:00:10.001Z"), signal);
  EXPECT_EQ(late.fit, 0);
  auto none = book.Receive(Receipt("m3:k:s1", "delivered", "2026-06-01T12:00:01Z"), signal);
  EXPECT_EQ(none.fit, -1);
  // A receipt dated before the publish: clamped at 0.
  book.Sent("m4:j:s1", "j", "email", signal, signal + 5 * kSecond, 10 * kSecond);
  auto early = book.Receive(Receipt("m4:j:s1", "delivered", "2026-06-01T12:00:01Z"), signal);
  EXPECT_EQ(early.action_to_customer_us, 0);
}

TEST(ReceiptBook, UnknownDuplicateLateAndMalformedReceiptsAreTold) {
  ReceiptBook book(60 * kSecond, 100);
  const int64_t t = T("2026-06-01T12:00:00Z");
  book.Sent("a", "j", "email", t, t, 0);
  EXPECT_EQ(book.Receive(Receipt("zzz", "delivered", "2026-06-01T12:00:01Z"), t).result,
            ReceiptBook::Result::kUnknown);
  EXPECT_EQ(book.Receive(Receipt("a", "delivered", "2026-06-01T12:00:01Z"), t).result,
            ReceiptBook::Result::kMatched);
  EXPECT_EQ(book.Receive(Receipt("a", "delivered", "2026-06-01T12:00:02Z"), t).result,
            ReceiptBook::Result::kDuplicate);
  EXPECT_EQ(book.Receive(Receipt("a", "opened", "2026-06-01T12:00:03Z"), t).result,
            ReceiptBook::Result::kMatched);  // another status of the same action
  // After the window the action is gone: its receipts are late, not unknown.
  EXPECT_EQ(book.Receive(Receipt("a", "clicked", "2026-06-01T12:02:00Z"), t + 61 * kSecond).result,
            ReceiptBook::Result::kLate);
  EXPECT_EQ(book.size(), 0u);
  for (const char* bad : {"not json", "[1]", R"({"decision":"a","status":"read","at":"2026-06-01T12:00:00Z"})",
                          R"({"decision":"","status":"delivered","at":"2026-06-01T12:00:00Z"})",
                          R"({"decision":"a","status":"delivered","at":"yesterday"})",
                          R"({"decision":5,"status":"delivered","at":"2026-06-01T12:00:00Z"})"}) {
    auto r = book.Receive(bad, t);
    EXPECT_EQ(r.result, ReceiptBook::Result::kMalformed) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
}

TEST(ReceiptBook, KeepsAtMostItsCapacityOldestFirst) {
  ReceiptBook book(3600 * kSecond, 3);
  const int64_t t = T("2026-06-01T12:00:00Z");
  for (int i = 0; i < 10; ++i) book.Sent("id" + std::to_string(i), "j", "email", t, t + i, 0);
  EXPECT_EQ(book.size(), 3u);
  EXPECT_EQ(book.Receive(Receipt("id9", "delivered", "2026-06-01T12:00:01Z"), t).result,
            ReceiptBook::Result::kMatched);
  EXPECT_EQ(book.Receive(Receipt("id6", "delivered", "2026-06-01T12:00:01Z"), t).result,
            ReceiptBook::Result::kLate);
  // The late ids are bounded too: the oldest are forgotten (then unknown).
  EXPECT_EQ(book.Receive(Receipt("id0", "delivered", "2026-06-01T12:00:01Z"), t).result,
            ReceiptBook::Result::kUnknown);
  // The same id sent again (a replay) is kept once.
  book.Sent("id9", "j", "email", t, t + 100, 0);
  EXPECT_EQ(book.size(), 3u);
}

// A book's tables are written through when it is made (receipts.cc, PopulatePages):
// recording actions takes no page fault, which would otherwise fall on the deciding
// thread in the middle of an action's publish (its index is hit at random).
TEST(ReceiptBook, RecordingActionsInAFreshBookTakesNoPageFault) {
  ReceiptBook book(3600 * kSecond, 200'000);  // serve's default: tables of about 46 MB
  const int64_t t = T("2026-06-01T12:00:00Z");
  std::vector<std::string> ids;
  for (int i = 0; i < 20'000; ++i) ids.push_back("msg-" + std::to_string(i) + ":journey:s1");
  book.Sent("warm", "j", "email", t, t, 0);  // the interned names, the first of each page
  rusage before{}, after{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &before), 0);
  for (int i = 0; i < 20'000; ++i) book.Sent(ids[i], "j", "email", t, t + i, 0);
  ASSERT_EQ(getrusage(RUSAGE_SELF, &after), 0);
  EXPECT_EQ(book.size(), 20'001u);
  // Without the tables written through at the start: about 10,000 faults (the index's
  // 6,144 pages hit at random, the two rings' pages in turn).
  EXPECT_LT(after.ru_minflt - before.ru_minflt, 50) << "minor page faults while recording";
}

// An action that left the book gives its place to a new one: what the new one's
// receipt reports is the new action's, whatever the old one held.
TEST(ReceiptBook, AnActionInTheBookIsItsOwnAfterOthersLeft) {
  ReceiptBook book(3600 * kSecond, 2);
  const int64_t t = T("2026-06-01T12:00:00Z");
  book.Sent("old", "a_journey_with_a_long_name", "email", t, t, 10 * kSecond);
  book.Sent("mid", "b", "sms", t, t, 0);
  for (int i = 0; i < 5; ++i) {  // each new action pushes the oldest out
    book.Sent("n" + std::to_string(i), "c" + std::to_string(i), "push", t + i * kSecond,
              t + (i + 1) * kSecond, i == 4 ? 0 : 10 * kSecond);
  }
  EXPECT_EQ(book.size(), 2u);
  auto r = book.Receive(Receipt("n4", "delivered", "2026-06-01T12:00:08Z"), t);
  ASSERT_EQ(r.result, ReceiptBook::Result::kMatched);
  EXPECT_EQ(r.journey, "c4");
  EXPECT_EQ(r.channel, "push");
  EXPECT_EQ(r.action_to_customer_us, 3 * kSecond);  // published at +5 s
  EXPECT_EQ(r.signal_to_customer_us, 4 * kSecond);  // signal at +4 s
  EXPECT_EQ(r.fit, -1);                             // no deadline (the old one had one)
  EXPECT_EQ(book.Receive(Receipt("n3", "delivered", "2026-06-01T12:00:08Z"), t).journey, "c3");
  // Gone: the last two remembered (late), the older forgotten (unknown).
  EXPECT_EQ(book.Receive(Receipt("n2", "delivered", "2026-06-01T12:00:08Z"), t).result,
            ReceiptBook::Result::kLate);
  EXPECT_EQ(book.Receive(Receipt("old", "delivered", "2026-06-01T12:00:08Z"), t).result,
            ReceiptBook::Result::kUnknown);
}

// The book (a flat index over two rings) against a plain model of its rules,
// over many random actions, replays, receipts and expiries: every receipt's result
// and the book's size agree. With a capacity and a pool of ids that make keys leave
// and come back often, the index's deletions and growths are all exercised.
TEST(ReceiptBook, AgreesWithAPlainModelOverManyActions) {
  struct Model {
    int64_t window_us;
    size_t capacity;
    std::deque<std::pair<int64_t, std::string>> order;  // (published, id)
    std::map<std::string, uint8_t> actions;             // id -> statuses seen
    // The ids of the last `capacity` actions to leave (an id sent again after it
    // left may be there twice): a receipt for one of them not in `actions` is late.
    std::deque<std::string> gone_order;
    void Expire(int64_t now) {
      while (!order.empty() && (order.size() > capacity || order.front().first < now - window_us)) {
        const std::string id = order.front().second;
        order.pop_front();
        actions.erase(id);
        gone_order.push_back(id);
        if (gone_order.size() > capacity) gone_order.pop_front();
      }
    }
    void Sent(const std::string& id, int64_t at) {
      if (actions.count(id)) return;
      actions[id] = 0;
      order.emplace_back(at, id);
      Expire(at);
    }
    ReceiptBook::Result Receive(const std::string& id, int status, int64_t now) {
      Expire(now);
      auto it = actions.find(id);
      if (it == actions.end()) {
        const bool gone = std::find(gone_order.begin(), gone_order.end(), id) != gone_order.end();
        return gone ? ReceiptBook::Result::kLate : ReceiptBook::Result::kUnknown;
      }
      if (it->second & (1 << status)) return ReceiptBook::Result::kDuplicate;
      it->second |= static_cast<uint8_t>(1 << status);
      return ReceiptBook::Result::kMatched;
    }
  };
  const char* statuses[] = {"delivered", "opened", "clicked", "failed"};
  for (size_t capacity : {1, 7, 100}) {
    Model model{30 * kSecond, capacity, {}, {}, {}};
    ReceiptBook book(30 * kSecond, capacity);
    std::mt19937_64 rng(capacity);
    int64_t now = T("2026-06-01T12:00:00Z");
    for (int step = 0; step < 20000; ++step) {
      now += static_cast<int64_t>(rng() % (kSecond / 4));
      const std::string id = "m" + std::to_string(rng() % (3 * capacity + 5)) + ":j:s1";
      if (rng() % 3 != 0) {
        model.Sent(id, now);
        book.Sent(id, "j", "email", now, now, 0);
      } else {
        const int status = static_cast<int>(rng() % 4);
        const auto expected = model.Receive(id, status, now);
        const auto got = book.Receive(Receipt(id, statuses[status], "2026-06-01T12:00:00Z"), now).result;
        ASSERT_EQ(ResultName(got), std::string(ResultName(expected)))
            << "capacity " << capacity << ", step " << step << ", " << id;
      }
      ASSERT_EQ(book.size(), model.actions.size()) << "capacity " << capacity << ", step " << step;
    }
  }
}

}  // namespace
}  // namespace juncture::serve
