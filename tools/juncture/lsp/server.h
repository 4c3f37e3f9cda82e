// `juncture lsp`: a Language Server Protocol 3.17 server over stdio (JSON-RPC
// framing, jsonrpc.h). Full-document sync; on every change the whole program is
// checked again and every file's diagnostics published. Requests answered:
// initialize, shutdown, textDocument/hover, definition, completion, formatting,
// documentSymbol, rename. A malformed message or an unknown request gets a JSON-RPC
// error and the server goes on; nothing a client sends ends it but `exit` or the end
// of its input.
#pragma once

#include <iosfwd>
#include <set>
#include <string>

#include "juncture/lsp/jsonrpc.h"
#include "juncture/lsp/workspace.h"

namespace juncture::lsp {

class Server {
 public:
  Server(std::istream& in, std::ostream& out) : in_(in), out_(out) {}
  // Serves until `exit` or the end of the input. Returns the process's exit code: 0
  // after shutdown then exit, 1 otherwise (as the protocol says).
  int Run();

 private:
  void Handle(const json& message);
  json Answer(const std::string& method, const json& params);
  void Notify(const std::string& method, const json& params);
  void Publish();  // compiles and sends every file's diagnostics

  std::istream& in_;
  std::ostream& out_;
  Workspace workspace_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exit_ = false;
  std::set<std::string> published_;  // files whose diagnostics the client holds
};

}  // namespace juncture::lsp
