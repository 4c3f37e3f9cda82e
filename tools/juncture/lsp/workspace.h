// The program an editor works on: every .jny file under the workspace folder (and
// every open document), with the open documents' text in place of what is on disk,
// and the approvals ledger beside it. Compiled again after every change: the
// diagnostics are the same checker's as `juncture lint` on the saved files.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/compiler/compiler.h"

namespace juncture::lsp {

// file:///a/b.jny <-> /a/b.jny (percent-decoding and -encoding).
std::string UriToPath(std::string_view uri);
std::string PathToUri(std::string_view path);

// An LSP position: 0-based line, and character in UTF-16 code units.
struct Position {
  int line = 0;
  int character = 0;
};

// Columns: LSP counts UTF-16 code units, the compiler code points (1-based).
int Utf16Column(std::string_view line, uint32_t codepoint_column);
uint32_t CodepointColumn(std::string_view line, int utf16_column);

class Workspace {
 public:
  // The folder whose .jny files make the program ("" until the client names one:
  // then the folder of the first document opened).
  void SetRoot(const std::string& path) { root_ = path; }
  const std::string& root() const { return root_; }

  void Open(const std::string& path, std::string text);
  void Change(const std::string& path, std::string text) { Open(path, std::move(text)); }
  void Close(const std::string& path) { open_.erase(path); }
  bool IsOpen(const std::string& path) const { return open_.count(path) != 0; }
  // The text of an open document, or of the file on disk ("" if unreadable).
  std::string Text(const std::string& path) const;

  // Compiles the program now; the result stays until the next Compile.
  const compiler::Compilation& Compile();
  const compiler::Compilation* current() const { return current_.get(); }
  // The latest compilation that parsed (its AST is there even if it has type
  // errors): what hover, definition and completion read while a file is half-typed.
  const compiler::Compilation* parsed() const { return parsed_.get(); }

  // The files of the program, in the order they are compiled.
  std::vector<std::string> Files() const;

 private:
  std::string root_;
  std::map<std::string, std::string> open_;  // path -> text
  std::shared_ptr<const compiler::Compilation> current_, parsed_;
};

// The file id of `path` in `c`, or compiler::kNoFile.
compiler::FileId FindFile(const compiler::Compilation& c, const std::string& path);

}  // namespace juncture::lsp
