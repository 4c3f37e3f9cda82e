#include "juncture/lsp/workspace.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "juncture/compiler/options.h"

namespace fs = std::filesystem;

namespace juncture::lsp {

std::string UriToPath(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) == kScheme) uri.remove_prefix(kScheme.size());
  std::string out;
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size()) {
      const std::string hex(uri.substr(i + 1, 2));
      char* end = nullptr;
      long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += uri[i];
  }
  return out;
}

std::string PathToUri(std::string_view path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The length in bytes of the UTF-8 sequence starting with `lead` (1 for a stray byte).
static size_t SequenceLength(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

int Utf16Column(std::string_view line, uint32_t codepoint_column) {
  int units = 0;
  uint32_t column = 1;
  for (size_t i = 0; i < line.size() && column < codepoint_column; ++column) {
    const size_t n = SequenceLength(static_cast<unsigned char>(line[i]));
    units += n == 4 ? 2 : 1;  // outside the BMP: a surrogate pair
    i += n;
  }
  return units + static_cast<int>(codepoint_column > column ? codepoint_column - column : 0);
}

uint32_t CodepointColumn(std::string_view line, int utf16_column) {
  int units = 0;
  uint32_t column = 1;
  for (size_t i = 0; i < line.size() && units < utf16_column; ++column) {
    const size_t n = SequenceLength(static_cast<unsigned char>(line[i]));
    units += n == 4 ? 2 : 1;
    i += n;
  }
  return column + static_cast<uint32_t>(utf16_column > units ? utf16_column - units : 0);
}

void Workspace::Open(const std::string& path, std::string text) {
  if (root_.empty()) root_ = fs::path(path).parent_path().string();
  open_[path] = std::move(text);
}

std::string Workspace::Text(const std::string& path) const {
  if (auto it = open_.find(path); it != open_.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Workspace::Files() const {
  std::vector<std::string> files;
  if (!root_.empty()) {
    for (const std::string& f : compiler::ExpandInputs({root_})) {
      if (fs::exists(f)) files.push_back(fs::weakly_canonical(f).string());
    }
  }
  for (const auto& [path, text] : open_) {
    if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  }
  return files;
}

const compiler::Compilation& Workspace::Compile() {
  std::vector<std::pair<std::string, std::string>> sources;
  for (const std::string& f : Files()) sources.emplace_back(f, Text(f));
  std::string ledger;
  if (!root_.empty()) {
    std::ifstream in(fs::path(root_) / "approvals.json", std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    ledger = text.str();
  }
  std::shared_ptr<const compiler::Compilation> c =
      compiler::CompileSources(sources, compiler::CompileOptions{}, ledger);
  current_ = c;
  if (c->ast() != nullptr) parsed_ = c;
  return *current_;
}

compiler::FileId FindFile(const compiler::Compilation& c, const std::string& path) {
  for (compiler::FileId f = 0; f < c.sources().size(); ++f) {
    if (c.sources().file(f).path == path) return f;
  }
  return compiler::kNoFile;
}

}  // namespace juncture::lsp
