// Streams for the state tests (snapshots, the state store): inputs of every kind
// over a program that reaches every kind of decision, so that "a restored engine
// decides the rest exactly as one that never stopped" is tested where it is hard.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "engine_test_util.h"

namespace juncture::enginetest {

// One step of a stream: a message in virtual time, a message on an outside clock
// (serve), or moving time.
struct Input {
  enum Kind { kMessage, kServe, kAdvance } kind = kMessage;
  std::string json;
  int64_t time_us = 0;
};

inline void Feed(runtime::Engine& e, const Input& in, Collector& sink) {
  switch (in.kind) {
    case Input::kMessage: e.Process(in.json, sink); break;
    case Input::kServe: e.Process(in.json, sink, in.time_us); break;
    case Input::kAdvance: e.AdvanceTo(in.time_us, sink); break;
  }
}

inline std::vector<std::string> Lines(const Collector& sink, size_t from_decision, size_t from_dead) {
  std::vector<std::string> out;
  for (size_t i = from_decision; i < sink.decisions.size(); ++i) out.push_back(sink.decisions[i].ToJson());
  for (size_t i = from_dead; i < sink.dead_letters.size(); ++i) {
    out.push_back("dead: " + sink.dead_letters[i].first + " -> " + sink.dead_letters[i].second);
  }
  return out;
}

// A reproducible random stream over kBase's events: a few customers, time moving by
// minutes to hours (through nights, so quiet hours defer), identifies that change
// consent and time zone, undeclared events, malformed messages, and AdvanceTo.
inline std::vector<Input> RandomStream(uint32_t seed, int count, bool serve, int64_t& end_us) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* customers[] = {"ana", "ben", "cy", "dee"};
  const char* zones[] = {"UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin"};
  const char* paths[] = {"/", "/checkout/cart", "/sale/shoes", "/checkout/pay", "/help"};
  std::vector<Input> out;
  int64_t t = At(0);
  for (int i = 0; i < count; ++i) {
    t += (1 + pick(4) == 1 ? pick(240) : pick(30)) * kMinute + pick(1000) * kMs;
    std::string who = customers[pick(4)];
    std::string id = (pick(3) == 0 ? "m" : "x") + std::to_string(i);
    Input in;
    int r = pick(100);
    if (r < 24) {
      in.json = TrackJson(who, "cart", t,
                          "{\"value\":" + std::to_string(5 + pick(60)) + ".5,\"items\":" +
                              std::to_string(pick(4)) + (pick(2) ? ",\"coupon\":\"C\"" : "") + "}",
                          id);
    } else if (r < 44) {
      std::string props = std::string("{\"path\":\"") + paths[pick(5)] + "\",\"ms\":" +
                          std::to_string(pick(900)) +
                          (pick(2) ? ",\"score\":" + std::to_string(pick(10)) + ".25" : "") + "}";
      in.json = TrackJson(who, "page_view", t, props, id);
    } else if (r < 56) {
      in.json = TrackJson(who, "purchase", t,
                          "{\"amount\":" + std::to_string(pick(200)) + ",\"order_id\":\"o" +
                              std::to_string(i) + "\"}",
                          id);
    } else if (r < 68) {
      in.json = TrackJson(who, "app_open", t, "{}", id);
    } else if (r < 72) {
      in.json = TrackJson(who, "unsubscribed", t, "{}", id);
    } else if (r < 82) {
      std::string traits = std::string("{\"timezone\":\"") + zones[pick(4)] +
                           "\",\"email_opt_in\":" + (pick(4) ? "true" : "false") +
                           ",\"tier\":\"" + (pick(2) ? "gold" : "standard") +
                           "\",\"ltv\":" + std::to_string(pick(500)) + ",\"nick\":\"n" +
                           std::to_string(i) + "\"}";
      in.json = IdentifyJson(who, t, traits, id);
    } else if (r < 85) {
      in.json = TrackJson(who, "Order Shipped", t, "{}", id);  // undeclared: ignored
    } else if (r < 88) {
      in.json = pick(2) ? "{not json" : TrackJson(who, "cart", t, "{\"value\":\"x\"}", id);
    } else {
      in.kind = Input::kAdvance;
      t += pick(12) * kHour;
      in.time_us = t;
    }
    if (serve && in.kind == Input::kMessage && pick(2) == 0) {
      in.kind = Input::kServe;  // decided at receipt time, a little after its timestamp
      in.time_us = t + pick(5) * kSecond;
    }
    out.push_back(std::move(in));
  }
  end_us = t + 5 * kDay;
  return out;
}

// Waits, wait until with timeouts, quiet hours (local, deferring), caps, windows
// (count/sum/time_since, with where), re-entry rules, exits, splits, control, and
// arbitration on email (a resumed low-priority send taken back by a new entry) and push.
inline const char* kJourneys = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 2 per 1d }
channel push { consent profile.push_opt_in  quiet 22:00 .. 07:00  cap 3 per 6h }
channel webhook { consent true }

journey hot {
  priority 30
  on cart when event.value >= 40
  reenter always
  send email "hot" { v: event.value, n: count(cart within 1d) }
}

journey sale {
  priority 20
  on page_view when event.path starts_with "/sale"
  reenter always
  send push "sale" { since: time_since(purchase) }
}

journey rescue {
  priority 10
  on cart when event.value >= 20
  reenter after 1d
  exit on purchase when event.amount > 100
  wait 30m
  if count(page_view within 1h where event.path starts_with "/checkout") > 0 {
    send email "nudge" { value: event.value, views: count(page_view within 1h) }
  } else {
    send push "nudge" { spent: sum(purchase.amount within 1d), ms: sum(page_view.ms within 1h) }
  }
  wait until purchase or app_open when event.id starts_with "m" within 2d {
    send webhook "converted" { by: event.id, tier: profile.tier }
  } else {
    send email "last_call" { since: time_since(purchase), score: sum(page_view.score within 1d) }
  }
}

journey welcome {
  priority 5
  on app_open
  reenter never
  send email "welcome"
  send push "welcome"
}

journey browse {
  on page_view
  reenter always
  exit on unsubscribed
  split {
    50%: send push "tip" { path: event.path }
    50%: control
  }
  wait 2h
  send email "digest" { score: sum(page_view.score within 1d), n: count(page_view within 1d) }
}

journey late {
  priority 1
  on app_open
  reenter always
  wait until cart within 1d {
    send email "late" { v: event.value, coupon: event.coupon ?? "none" }
  }
}
)";

inline std::string Program() { return std::string(kBase) + kJourneys; }

}  // namespace juncture::enginetest
