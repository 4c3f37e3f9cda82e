// Decoding of literal spellings: strings, durations.
#include <cstdint>
#include <limits>
#include <string>

#include "parse/ast_builder.h"

namespace juncture::compiler {
namespace {

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool UnescapeString(const std::string& body, std::string& out, size_t& bad_offset) {
  out.clear();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    bad_offset = i;
    if (i + 1 >= body.size()) return false;
    char e = body[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'u': {
        // \u{1F600}: 1 to 6 hex digits, a Unicode scalar value.
        if (i + 1 >= body.size() || body[i + 1] != '{') return false;
        size_t j = i + 2;
        uint32_t cp = 0;
        int digits = 0;
        for (; j < body.size() && body[j] != '}'; ++j) {
          int h = HexValue(body[j]);
          if (h < 0 || ++digits > 6) return false;
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (j >= body.size() || digits == 0) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) return false;
        AppendUtf8(cp, out);
        i = j;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

bool ParseDuration(const std::string& text, int64_t& micros) {
  constexpr int64_t kSecond = 1'000'000;
  // Durations are kept below ~290 years so that time + duration never overflows.
  constexpr int64_t kMax = int64_t{1} << 53;
  int64_t total = 0;
  int64_t number = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (number > kMax / 10) return false;
      number = number * 10 + (c - '0');
      continue;
    }
    int64_t unit = 0;
    switch (c) {
      case 's': unit = kSecond; break;
      case 'm': unit = 60 * kSecond; break;
      case 'h': unit = 3600 * kSecond; break;
      case 'd': unit = 86400 * kSecond; break;
      case 'w': unit = 7 * 86400 * kSecond; break;
      default: return false;
    }
    if (number > kMax / unit) return false;
    total += number * unit;
    if (total > kMax) return false;
    number = 0;
  }
  micros = total;
  return true;
}

}  // namespace juncture::compiler
