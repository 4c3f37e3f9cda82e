// `juncture fmt`: prints .jny files in canonical form (comments kept), rewrites them
// in place (-w), or checks them (--check: a unified diff per file that would change).
#include <dtl/dtl.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"
#include "juncture/compiler/format.h"

namespace juncture::tools {
namespace {

struct FmtOptions {
  std::vector<std::string> paths;
  bool check = false;
  bool write = false;
};

bool ReadFile(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return !in.bad();
}

// Replaces `path` by `text` through a temporary file in the same folder and a rename,
// so that the file is never half written. Keeps the file's permissions.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const std::string tmp = path + ".fmt-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return IoError("cannot write " + tmp);
    }
  }
  std::error_code ec;
  fs::permissions(tmp, fs::status(path, ec).permissions(), ec);
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return IoError("cannot replace " + path + ": " + ec.message());
  }
  return OkStatus();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A unified diff from the file as it is to the file formatted.
void PrintDiff(const std::string& path, const std::string& from, const std::string& to) {
  dtl::Diff<std::string, std::vector<std::string>> diff(Lines(from), Lines(to));
  diff.compose();
  diff.composeUnifiedHunks();
  std::cout << "--- " << path << "\n+++ " << path << " (formatted)\n";
  diff.printUnifiedFormat(std::cout);
}

int RunFmt(const FmtOptions& o) {
  const std::vector<std::string> files = compiler::ExpandInputs(o.paths);
  std::string error;
  int failed = 0, differing = 0;
  for (const std::string& path : files) {
    std::string text;
    if (!ReadFile(path, text)) {
      std::cerr << "juncture fmt: cannot read " << path << "\n";
      ++failed;
      continue;
    }
    Result<std::string> r = compiler::FormatSource(path, text);
    if (!r.ok()) {
      std::cerr << r.status().message();
      ++failed;
      continue;
    }
    if (o.check) {
      if (*r != text) {
        PrintDiff(path, text, *r);
        ++differing;
      }
    } else if (o.write) {
      if (*r != text) {
        if (Status s = WriteFileAtomically(path, *r); !s.ok()) {
          std::cerr << "juncture fmt: " << s.message() << "\n";
          ++failed;
          continue;
        }
        std::cout << path << "\n";  // the files it rewrote
      }
    } else {
      if (files.size() > 1) std::cout << "// " << path << "\n";
      std::cout << *r;
    }
  }
  if (failed > 0) return 1;
  return differing > 0 ? 1 : 0;
}

}  // namespace

Runner AddFmtCommand(CLI::App& cmd) {
  auto o = std::make_shared<FmtOptions>();
  cmd.add_option("paths", o->paths, ".jny files or directories")->required();
  auto* check = cmd.add_flag("--check", o->check,
                             "print a diff for each file not in canonical form; exit 1 if any");
  cmd.add_flag("-w,--write", o->write, "rewrite the files in place (comments are kept)")
      ->excludes(check);
  return [o] { return RunFmt(*o); };
}

}  // namespace juncture::tools
