// The checkpoint file of `serve --jetstream`: written whole and atomically (a
// temporary file, fsync, rename, fsync of the directory), so a crash leaves either
// the previous checkpoint or the new one, never a torn one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace juncture::serve {

bool WriteFileAtomically(const std::string& dir, const std::string& name, std::string_view data,
                         std::string* error);
// The file's bytes; nullopt if it does not exist (an error if it cannot be read).
std::optional<std::string> ReadStateFile(const std::string& path, std::string* error);

}  // namespace juncture::serve
