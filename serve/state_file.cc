#include "state_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace juncture::serve {

Result<std::string> ReadStateFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path + " does not exist");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in.good() && !in.eof()) return IoError("cannot read " + path);
  return out.str();
}

}  // namespace juncture::serve
