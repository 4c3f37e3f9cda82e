// JSON text that a strict reader accepts, whatever bytes went in: string literals
// (decisions, dead-letter reasons) are always valid UTF-8, and a dead letter whose
// message is not UTF-8 carries it as base64 so that its exact bytes survive.
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "juncture/runtime/runtime.h"

namespace juncture::runtime {
namespace {

// The length of the well-formed UTF-8 sequence that starts `p` (n > 0 bytes left), or
// 0 if there is none; then `bad` is the length of its maximal ill-formed subpart (the
// bytes that one U+FFFD replaces, as Unicode recommends: at least 1). Ranges of
// RFC 3629 / Unicode table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF.
size_t Utf8Sequence(const unsigned char* p, size_t n, size_t& bad) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  size_t trail;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    trail = 1;
  } else if (b0 == 0xE0) {
    trail = 2;
    lo = 0xA0;  // not overlong
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    trail = 2;
  } else if (b0 == 0xED) {
    trail = 2;
    hi = 0x9F;  // not a surrogate
  } else if (b0 == 0xF0) {
    trail = 3;
    lo = 0x90;  // not overlong
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    trail = 3;
  } else if (b0 == 0xF4) {
    trail = 3;
    hi = 0x8F;  // not above U+10FFFF
  } else {
    bad = 1;  // a continuation byte, C0, C1 or F5..FF
    return 0;
  }
  for (size_t k = 1; k <= trail; ++k) {
    if (k >= n || p[k] < lo || p[k] > hi) {
      bad = k;
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return trail + 1;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// The bytes a JSON string literal holds as they are: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (left == 2) v |= uint32_t{p[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t plain = 0;
  while (plain < n && kPlain[p[plain]]) ++plain;
  if (plain == n) {  // the common case: nothing to escape, written in one go
    const size_t at = out.size();
    out.resize(at + n + 2);
    char* w = out.data() + at;
    w[0] = '"';
    if (n != 0) std::memcpy(w + 1, s.data(), n);
    w[n + 1] = '"';
    return;
  }
  out += '"';
  for (size_t i = 0; i < n;) {
    // A run of printable ASCII needs no escape, appended whole.
    size_t run = i;
    while (run < n && kPlain[p[run]]) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == n) break;
    }
    const unsigned char c = p[i];
    if (c >= 0x80) {
      size_t bad = 0;
      size_t len = Utf8Sequence(p + i, n - i, bad);
      if (len != 0) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out += kReplacement;
        i += bad;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0, bad = 0; i < s.size();) {
    size_t len = Utf8Sequence(p + i, s.size() - i, bad);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string DeadLetterJson(std::string_view message, std::string_view reason) {
  std::string line = "{\"reason\":";
  AppendJsonString(reason, line);
  if (IsValidUtf8(message)) {
    line += ",\"message\":";
    AppendJsonString(message, line);
  } else {
    line += ",\"message_base64\":\"";
    line += Base64(message);
    line += '"';
  }
  line += '}';
  return line;
}

}  // namespace juncture::runtime
