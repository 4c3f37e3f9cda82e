// Source files and positions.
//
// A SourceManager owns the text of every file of a program and maps byte offsets
// to 1-based line and column numbers (columns count Unicode code points, the way
// an editor does). It is filled once, then only read; reading is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace juncture::compiler {

// Index of a file inside its SourceManager.
using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

// A position in a source file. line and column are 1-based; 0 means "unknown".
struct SourceLoc {
  FileId file = kNoFile;
  uint32_t line = 0;
  uint32_t column = 0;

  bool valid() const { return file != kNoFile && line != 0; }
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
  friend auto operator<=>(const SourceLoc&, const SourceLoc&) = default;
};

// A half-open range [begin, end) in one file; end may equal begin.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
};

// One loaded file.
struct SourceFile {
  std::string path;  // as given by the user (used in diagnostics)
  std::string text;  // the bytes of the file
  std::vector<uint32_t> line_starts;  // byte offset where each line starts
};

class SourceManager {
 public:
  SourceManager() = default;
  SourceManager(const SourceManager&) = delete;
  SourceManager& operator=(const SourceManager&) = delete;

  // Adds a file with the given text; returns its id.
  FileId AddFile(std::string path, std::string text);

  const SourceFile& file(FileId id) const { return *files_[id]; }
  size_t size() const { return files_.size(); }

  // The text of line `line` (1-based) of `file`, without its line break.
  std::string_view LineText(FileId file, uint32_t line) const;

  // The location of byte `offset` in `file` (column in code points).
  SourceLoc LocForOffset(FileId file, uint32_t offset) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

// Returns the byte offset of the first invalid UTF-8 sequence in `text`, or -1 if the
// text is valid UTF-8 (overlong forms and surrogates are invalid).
int64_t FindInvalidUtf8(std::string_view text);

}  // namespace juncture::compiler
