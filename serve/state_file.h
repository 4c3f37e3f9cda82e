// The whole-state checkpoint file of earlier versions (snapshot.bin), which serve
// imports into the state store once.
#pragma once

#include <string>

#include "juncture/status.h"

namespace juncture::serve {

// The file's bytes; kNotFound if it does not exist, kIoError if it cannot be read.
Result<std::string> ReadStateFile(const std::string& path);

}  // namespace juncture::serve
