// JSON-RPC 2.0 over the base protocol of the Language Server Protocol: each message
// is a `Content-Length: N` header (other headers are allowed and ignored), a blank
// line, then N bytes of UTF-8 JSON. Read and written on streams (stdin/stdout).
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace juncture::lsp {

using nlohmann::json;

// JSON-RPC and LSP error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerNotInitialized = -32002;
inline constexpr int kRequestFailed = -32803;

enum class ReadStatus {
  kMessage,    // `body` holds a message's bytes
  kEnd,        // the input ended (between messages)
  kBadHeader,  // a header block without a valid Content-Length; skipped
};

// Reads the next message's body. After kBadHeader the stream is positioned after
// the bad header block, so reading may go on.
ReadStatus ReadMessage(std::istream& in, std::string& body);

// Writes `message` with its header, and flushes.
void WriteMessage(std::ostream& out, const json& message);

// {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}
json ErrorResponse(const json& id, int code, const std::string& message);

}  // namespace juncture::lsp
