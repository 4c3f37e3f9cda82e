// juncture test SCENARIO... : run scenario files and compare decisions.
//
// A scenario file (docs/scenarios.md) is JSON:
//   {"program": ["schema.jny", "cart_rescue.jny"],      // relative to the file
//    "scenarios": [
//      {"name": "a big cart gets the personal reminder",
//       "messages": [ {track/identify message}, ... ],
//       "until": "+3d",                                    // optional
//       "expect": [ {"journey": "cart_rescue", "template": "cart_reminder_personal",
//                    "outcome": "sent", "at": "2026-10-01T10:30:00Z"} ],
//       "exact": true}]}                                   // optional
// Every expected decision must match one actual decision (subset of keys; params as a
// subset; times to the second). With "exact", every actual send, control or conversion
// decision must be expected too. Exit 0 if every scenario passes, 1 otherwise.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "juncture/commands.h"
#include "juncture/limit_options.h"
#include "juncture/program_options.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"

namespace juncture::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TestOptions {
  std::vector<std::string> files;
  bool verbose = false;
  BackendOptions backend;
  runtime::EngineLimits limits;
};

class CollectSink : public runtime::DecisionSink {
 public:
  void OnDecision(const runtime::Decision& d) override {
    decisions.push_back(json::parse(d.ToJson()));
  }
  void OnDeadLetter(std::string_view, const std::string& reason) override {
    dead_letters.push_back(reason);
  }
  std::vector<json> decisions;
  std::vector<std::string> dead_letters;
};

bool SameNumber(const json& a, const json& b) {
  return a.is_number() && b.is_number() && std::abs(a.get<double>() - b.get<double>()) < 1e-9;
}

// True if `actual` holds every key of `expected` with the same value.
bool Matches(const json& expected, const json& actual) {
  for (const auto& [key, want] : expected.items()) {
    if (!actual.contains(key)) return false;
    const json& got = actual[key];
    if (key == "at" || key == "until") {
      if (!got.is_string() || !want.is_string() ||
          got.get<std::string>().substr(0, 19) != want.get<std::string>().substr(0, 19)) {
        return false;
      }
    } else if (key == "params") {
      if (!want.is_object() || !got.is_object() || !Matches(want, got)) return false;
    } else if (!(got == want || SameNumber(got, want))) {
      return false;
    }
  }
  return true;
}

bool IsAction(const json& d) {
  const std::string outcome = d.value("outcome", "");
  return d.contains("channel") || outcome == "control" || outcome == "converted";
}

// Runs one scenario; prints a report of what went wrong. True if it passed.
bool RunScenario(const runtime::CompiledProgram& program, const runtime::EngineLimits& limits,
                 const json& s, bool verbose) {
  std::string name = s.value("name", "(unnamed)");
  runtime::Engine engine(program, limits);
  CollectSink sink;
  for (const json& m : s.value("messages", json::array())) engine.Process(m.dump(), sink);
  engine.AdvanceTo(engine.now(), sink);
  if (s.contains("until")) {
    int64_t until = 0;
    if (!ParseUntil(s["until"].get<std::string>(), engine.now(), until)) {
      std::cout << "FAIL " << name << ": bad \"until\"\n";
      return false;
    }
    engine.AdvanceTo(until, sink);
  }
  std::vector<json> left;
  for (const json& d : sink.decisions) {
    if (IsAction(d)) left.push_back(d);
  }
  std::vector<json> missing;
  for (const json& want : s.value("expect", json::array())) {
    auto hit = std::find_if(left.begin(), left.end(), [&](const json& d) { return Matches(want, d); });
    if (hit == left.end()) {
      missing.push_back(want);
    } else {
      left.erase(hit);
    }
  }
  bool exact = s.value("exact", false);
  size_t want_dead = s.value("dead_letters", size_t{0});
  bool ok = missing.empty() && (!exact || left.empty()) && sink.dead_letters.size() == want_dead;
  std::cout << (ok ? "PASS " : "FAIL ") << name << "\n";
  if (ok && !verbose) return true;
  for (const json& m : missing) std::cout << "  expected, not decided: " << m.dump() << "\n";
  if (exact) {
    for (const json& d : left) std::cout << "  decided, not expected: " << d.dump() << "\n";
  }
  if (sink.dead_letters.size() != want_dead) {
    std::cout << "  dead letters: " << sink.dead_letters.size() << ", expected " << want_dead << "\n";
    for (const std::string& r : sink.dead_letters) std::cout << "    " << r << "\n";
  }
  if (!missing.empty() || verbose) {
    std::cout << "  decisions made:\n";
    for (const json& d : sink.decisions) {
      if (!IsAction(d)) continue;
      std::cout << "    " << d.value("journey", "") << " " << d.value("step", "") << " "
                << d.value("channel", "-") << " " << d.value("template", "") << " "
                << d.value("outcome", "") << (d.contains("reason") ? " (" + d.value("reason", "") + ")" : "")
                << " at " << d.value("at", "") << "\n";
    }
  }
  return ok;
}

// ---- Keys a scenario file may hold ----------------------------------------------------

const std::set<std::string> kFileKeys = {"program", "scenarios"};
const std::set<std::string> kScenarioKeys = {"name", "messages", "until", "expect", "exact",
                                             "dead_letters"};
// What an expectation may say: the members of a decision (docs/wire.md).
const std::set<std::string> kExpectKeys = {"id", "customer", "journey", "version", "step",
                                           "channel", "template", "params", "outcome", "reason",
                                           "until", "arm", "cause", "signal", "at"};

// "line:col" of the n-th key `key` of `text` (0-based, document order), or "" if it
// cannot be told (a key written with escapes).
std::string KeyPosition(const std::string& text, const std::string& key, size_t n) {
  const std::string quoted = json(key).dump();
  size_t seen = 0;
  for (size_t at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at + 1)) {
    size_t after = text.find_first_not_of(" \t\r\n", at + quoted.size());
    if (after == std::string::npos || text[after] != ':') continue;  // a value, not a key
    if (seen++ != n) continue;
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    size_t line_start = text.rfind('\n', at);
    size_t col = at - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
    return std::to_string(line) + ":" + std::to_string(col);
  }
  return "";
}

// Every key of the file that is not one of its format's, with where it is:
// "path:line:col: unknown key 'expct' in a scenario (the keys are: ...)".
std::vector<std::string> UnknownKeys(const std::string& path, const std::string& text) {
  std::vector<std::string> out;
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return out;
  std::map<std::string, size_t> occurrences;  // keys met so far, in document order
  auto list = [](const std::set<std::string>& keys) {
    std::string l;
    for (const std::string& k : keys) l += (l.empty() ? "" : ", ") + k;
    return l;
  };
  std::function<void(const nlohmann::ordered_json&, const std::set<std::string>*, const char*)> walk;
  walk = [&](const nlohmann::ordered_json& v, const std::set<std::string>* allowed, const char* what) {
    if (v.is_array()) {
      for (const auto& e : v) walk(e, nullptr, "");
      return;
    }
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const size_t n = occurrences[it.key()]++;
      if (allowed != nullptr && allowed->count(it.key()) == 0) {
        std::string where = KeyPosition(text, it.key(), n);
        out.push_back(path + (where.empty() ? "" : ":" + where) + ": unknown key '" + it.key() +
                      "' in " + what + " (the keys are: " + list(*allowed) + ")");
      }
      if (allowed == &kFileKeys && it.key() == "scenarios" && it.value().is_array()) {
        for (const auto& scenario : it.value()) walk(scenario, &kScenarioKeys, "a scenario");
      } else if (allowed == &kScenarioKeys && it.key() == "expect" && it.value().is_array()) {
        for (const auto& e : it.value()) walk(e, &kExpectKeys, "an expected decision");
      } else {
        walk(it.value(), nullptr, "");
      }
    }
  };
  walk(doc, &kFileKeys, "a scenario file");
  return out;
}

int RunTestFile(const std::string& path, const TestOptions& o, int& passed, int& failed) {
  bool verbose = o.verbose;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (!in || doc.is_discarded() || !doc.is_object()) {
    std::cout << "FAIL " << path << ": not a JSON scenario file\n";
    ++failed;
    return 1;
  }
  // A misspelled key would silently test less than it says: refuse the file.
  if (std::vector<std::string> unknown = UnknownKeys(path, text.str()); !unknown.empty()) {
    std::cout << "FAIL " << path << ": keys this format does not have\n";
    for (const std::string& u : unknown) std::cout << "  " << u << "\n";
    ++failed;
    return 1;
  }
  std::vector<std::string> program;
  fs::path dir = fs::path(path).parent_path();
  for (const json& p : doc.value("program", json::array())) {
    program.push_back((dir / p.get<std::string>()).lexically_normal().string());
  }
  compiler::CompileOptions options;
  options.warnings.DisableAll();
  auto c = compiler::CompileFiles(program, options);
  if (!c->ok()) {
    std::cout << "FAIL " << path << ": the program does not compile\n"
              << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    ++failed;
    return 1;
  }
  runtime::CompiledProgram compiled = MakeProgram(*c, o.backend);
  if (!compiled.evaluator) {
    ++failed;
    return 1;
  }
  std::cout << "== " << path << "\n";
  for (const json& s : doc.value("scenarios", json::array())) {
    (RunScenario(compiled, o.limits, s, verbose) ? passed : failed)++;
  }
  return 0;
}

int RunTests(const TestOptions& o) {
  int passed = 0, failed = 0;
  std::vector<std::string> files;
  for (const std::string& f : o.files) {
    std::error_code ec;
    if (fs::is_directory(f, ec)) {
      for (auto it = fs::recursive_directory_iterator(f, ec); !ec && it != fs::end(it); it.increment(ec)) {
        if (it->path().string().ends_with(".test.json")) files.push_back(it->path().string());
      }
    } else {
      files.push_back(f);
    }
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) RunTestFile(f, o, passed, failed);
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace

Runner AddTestCommand(CLI::App& cmd) {
  auto o = std::make_shared<TestOptions>();
  cmd.add_option("files", o->files, "scenario files (*.test.json) or directories")->required();
  cmd.add_flag("-v,--verbose", o->verbose, "show every decision, also for passing scenarios");
  AddBackendOptions(cmd, o->backend);
  AddLimitOptions(cmd, o->limits, /*virtual_time=*/true);
  return [o] { return RunTests(*o); };
}

}  // namespace juncture::tools
