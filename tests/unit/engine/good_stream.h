// A realistic stream for the engine tests: a program that uses most of the engine and
// a deterministic stream of good messages for it (several customers, waits, timers,
// deferrals, windows). Shared by robustness_test.cc and limits_test.cc.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "engine_test_util.h"

namespace juncture::enginetest {

// A program that uses most of the engine: waits, wait until, windows, splits,
// control, caps, local quiet hours, consent, arbitration, exits and segments.
inline const std::string kStreamProgram = std::string(kBase) + R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 3 per 1d }
channel push { consent profile.push_opt_in  cap 5 per 1d }
channel webhook { consent true }
segment high_value = profile.ltv >= 500 or profile.tier == "gold"
journey cart_rescue {
  priority 10
  on cart when event.value >= 50
  reenter after 1d
  exit on unsubscribed
  wait 30m
  if count(page_view within 10m where event.path starts_with "/checkout") > 0 {
    send push "nudge" { value: event.value }
  } else {
    split {
      45%: send email "reminder" { discount: 10% }
      45%: send email "reminder" { discount: 15% }
      10%: control
    }
  }
  wait until purchase within 2d {
    send email "thanks" { order: event.order_id }
  } else {
    send email "last_call"
  }
}
journey welcome {
  priority 5
  on app_open
  on purchase when event.amount < 60
  reenter always
  send email "welcome" { n: count(app_open within 1d) }
  send push "hello"
}
journey big_spender {
  on purchase when event.amount > 100
  eligible high_value
  reenter always
  send webhook "big" { amount: sum(purchase.amount within 7d), ratio: event.amount / profile.ltv }
}
)";

// A deterministic stream of good messages for `customers` customers, in time order.
struct Stream {
  std::vector<std::string> messages;
  std::vector<int64_t> times;
  std::vector<std::string> customers;
  int64_t end = 0;
};

inline Stream GoodStream(int count, int customers, uint32_t seed) {
  Stream s;
  std::mt19937 rng(seed);
  for (int i = 0; i < customers; ++i) s.customers.push_back("cust-" + std::to_string(i));
  int64_t t = Time("2026-06-01T06:00:00Z");
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"};
  const char* paths[] = {"/", "/checkout/pay", "/checkout", "/home", "/product/1"};
  for (int i = 0; i < count; ++i) {
    t += static_cast<int64_t>(rng() % (20 * 60)) * kSecond;
    const std::string& c = s.customers[rng() % customers];
    std::string id = "g-" + std::to_string(i);
    std::string msg;
    switch (rng() % 10) {
      case 0: {
        std::string traits = "{\"timezone\":\"" + std::string(zones[rng() % 4]) + "\"";
        traits += ",\"ltv\":" + std::to_string(rng() % 1000);
        traits += std::string(",\"tier\":\"") + (rng() % 3 == 0 ? "gold" : "standard") + "\"";
        traits += std::string(",\"email_opt_in\":") + (rng() % 5 == 0 ? "false" : "true") + "}";
        msg = IdentifyJson(c, t, traits, id);
        break;
      }
      case 1:
      case 2:
        msg = TrackJson(c, "cart", t, "{\"value\":" + std::to_string(rng() % 200) + "}", id);
        break;
      case 3:
      case 4:
        msg = TrackJson(c, "page_view", t,
                        "{\"path\":\"" + std::string(paths[rng() % 5]) + "\"}", id);
        break;
      case 5:
      case 6:
        msg = TrackJson(c, "purchase", t,
                        "{\"amount\":" + std::to_string(rng() % 300) + ",\"order_id\":\"o-" +
                            std::to_string(i) + "\"}",
                        id);
        break;
      case 7:
      case 8: msg = TrackJson(c, "app_open", t, "{}", id); break;
      default: msg = TrackJson(c, "unsubscribed", t, "{}", id); break;
    }
    s.messages.push_back(msg);
    s.times.push_back(t);
  }
  s.end = t + 3 * kDay;
  return s;
}

}  // namespace juncture::enginetest
