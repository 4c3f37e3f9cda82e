#include "juncture/lsp/jsonrpc.h"

#include <istream>
#include <ostream>

namespace juncture::lsp {

ReadStatus ReadMessage(std::istream& in, std::string& body) {
  std::string line;
  long long length = -1;
  bool any_header = false;
  for (;;) {
    if (!std::getline(in, line)) return any_header ? ReadStatus::kBadHeader : ReadStatus::kEnd;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!any_header) continue;  // stray blank lines between messages
      break;
    }
    any_header = true;
    const std::string key = "content-length:";
    if (line.size() > key.size()) {
      std::string head = line.substr(0, key.size());
      for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (head == key) {
        try {
          size_t used = 0;
          length = std::stoll(line.substr(key.size()), &used);
        } catch (const std::exception&) {
          length = -1;
        }
      }
    }
  }
  // At most 64 MiB: a larger message is an error, not an allocation.
  if (length < 0 || length > (64LL << 20)) return ReadStatus::kBadHeader;
  body.assign(static_cast<size_t>(length), '\0');
  in.read(body.data(), length);
  if (in.gcount() != length) return ReadStatus::kEnd;
  return ReadStatus::kMessage;
}

void WriteMessage(std::ostream& out, const json& message) {
  // Invalid UTF-8 in a string is replaced rather than thrown on.
  const std::string body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  out.flush();
}

json ErrorResponse(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace juncture::lsp
