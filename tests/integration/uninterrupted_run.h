// The oracle of the restart and shard tests: what one uninterrupted engine sends.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace juncture::itest {

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
