// The oracle of the restart and shard tests: what one uninterrupted engine sends, and
// the program they run.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace juncture::itest {

// A program whose decisions depend on every kind of per-customer state a restore or a
// split over shards must keep: a cap (3 emails per customer per day), a window (a
// webhook at the fifth cart), a re-entry rule and a pending wait (one push per
// customer, two seconds after the first cart): 5 actions per customer.
inline constexpr const char* kStatefulProgram = R"(
event cart { cart_id: string  value: float }
profile { email_opt_in: bool = true }
channel email { consent true  cap 3 per 1d }
channel push { consent true }
channel webhook { consent true }
journey instant { on cart reenter always send email "cart_seen" { cart: event.cart_id } }
journey fifth {
  on cart when count(cart within 1d) == 5
  reenter always
  send webhook "fifth" { n: count(cart within 1d) }
}
journey later { on cart reenter after 1d wait 2s send push "still_there" { cart: event.cart_id } }
)";

// The `sent` action ids of `juncture run PROGRAM --events EVENTS` (virtual time, to
// `until`: every wait of the test programs is over by then). `out`: where the run's
// decisions go.
inline std::set<std::string> SentIdsOfRun(const std::string& bin, const std::string& program,
                                          const std::string& events, const std::string& out,
                                          const std::string& until = "2026-11-23T12:00:00Z") {
  std::string cmd = "'" + bin + "' run '" + program + "' --events '" + events + "' --until " +
                    until + " > '" + out + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::set<std::string> ids;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto d = nlohmann::json::parse(line, nullptr, false);
    if (d.is_object() && d.value("outcome", "") == "sent") ids.insert(d.value("id", ""));
  }
  return ids;
}

}  // namespace juncture::itest
