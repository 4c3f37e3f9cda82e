// The ingest's write keys: who may send. Segment's HTTP API authenticates a source by
// its write key, sent as the user name of HTTP Basic authentication (an empty
// password). Private to ingest/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/status.h"

namespace juncture::ingest {

class WriteKeys {
 public:
  // Reads `path`: one key per line; blank lines and lines starting with '#' are
  // skipped, spaces around a key are not part of it. An error if the file cannot be
  // read (kNotFound) or holds no key (kInvalidArgument).
  static Result<WriteKeys> Load(const std::string& path);
  explicit WriteKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {}

  // Whether `key` is one of them (compared in constant time for keys of one length).
  bool Accepts(std::string_view key) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<std::string> keys_;
};

// The user name of an "Authorization: Basic <base64(user:password)>" header, or
// nullopt if the header is not one.
std::optional<std::string> BasicUser(std::string_view authorization);

}  // namespace juncture::ingest
