#include "ingest/write_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fstream>

namespace juncture::ingest {

Result<WriteKeys> WriteKeys::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read the write keys file " + path);
  }
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);) {
    size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    size_t end = line.find_last_not_of(" \t\r");
    keys.push_back(line.substr(begin, end - begin + 1));
  }
  if (keys.empty()) {
    return InvalidArgumentError("the write keys file " + path + " holds no key (one per line)");
  }
  return WriteKeys(std::move(keys));
}

bool WriteKeys::Accepts(std::string_view key) const {
  bool found = false;
  for (const std::string& k : keys_) {
    // Every key of the same length is compared in full: the time taken does not tell
    // how much of a guess was right.
    if (k.size() == key.size() && CRYPTO_memcmp(k.data(), key.data(), k.size()) == 0) found = true;
  }
  return found;
}

std::optional<std::string> BasicUser(std::string_view authorization) {
  constexpr std::string_view kBasic = "Basic ";
  if (authorization.size() <= kBasic.size() ||
      authorization.substr(0, kBasic.size()) != kBasic) {
    return std::nullopt;
  }
  std::string_view b64 = authorization.substr(kBasic.size());
  while (!b64.empty() && (b64.back() == ' ' || b64.back() == '\t')) b64.remove_suffix(1);
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) return std::nullopt;
  std::string decoded(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for.
  size_t padding = b64.substr(b64.size() - 2) == "==" ? 2 : b64.back() == '=' ? 1 : 0;
  decoded.resize(static_cast<size_t>(n) - padding);
  size_t colon = decoded.find(':');
  return colon == std::string::npos ? decoded : decoded.substr(0, colon);
}

}  // namespace juncture::ingest
