// A request body as the ingest reads it: gzip-compressed or not, whatever its
// Content-Type or Content-Encoding say (@rudderstack/rudder-sdk-node sends gzip
// labelled application/x-www-form-urlencoded), never more than a bound once
// uncompressed. Private to ingest/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "juncture/status.h"

namespace juncture::ingest {

// True if `bytes` start like a gzip stream (RFC 1952: 1f 8b).
bool LooksGzipped(std::string_view bytes);

// Uncompresses the gzip stream (or several, one after another) in `compressed` into
// `out`. An invalid-argument error if it is not valid gzip or holds more than `limit`
// bytes (the rest is not uncompressed: a small body cannot make a large one).
Status Gunzip(std::string_view compressed, size_t limit, std::string& out);

}  // namespace juncture::ingest
