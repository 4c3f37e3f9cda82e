// The answers of `juncture lsp`, each read off the workspace's compilations: the
// latest for diagnostics, the latest that parsed for names (hover, definition,
// completion, symbols, rename), so that they keep working while a file is half-typed.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "juncture/lsp/jsonrpc.h"
#include "juncture/lsp/workspace.h"

namespace juncture::lsp {

// A request that cannot be answered (an LSP ResponseError with `code`).
struct RequestError : std::runtime_error {
  RequestError(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

// textDocument/publishDiagnostics params for every file of the program (an empty
// list for a file without problems, so that fixed errors disappear), by path.
std::map<std::string, json> Diagnostics(const Workspace& ws);

json Hover(const Workspace& ws, const std::string& path, Position at);
json Definition(const Workspace& ws, const std::string& path, Position at);
json Completion(const Workspace& ws, const std::string& path, Position at);
json DocumentSymbols(const Workspace& ws, const std::string& path);
// The whole document in canonical form (`juncture fmt`), as one edit; [] if it is
// already canonical. RequestError if it has syntax errors.
json Formatting(const Workspace& ws, const std::string& path);
// Renames the segment or const at `at` everywhere in the program.
json Rename(const Workspace& ws, const std::string& path, Position at, const std::string& name);

}  // namespace juncture::lsp
