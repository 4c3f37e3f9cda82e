#include "juncture/lsp/server.h"

#include <filesystem>
#include <map>
#include <iostream>

#include "juncture/lsp/features.h"

namespace juncture::lsp {
namespace {

std::string PathOf(const json& params) {
  const std::string path = UriToPath(params.at("textDocument").at("uri").get<std::string>());
  return std::filesystem::weakly_canonical(path).string();
}

Position PositionOf(const json& params) {
  const json& p = params.at("position");
  return {p.at("line").get<int>(), p.at("character").get<int>()};
}

}  // namespace

int Server::Run() {
  std::string body;
  while (!exit_) {
    ReadStatus status = ReadMessage(in_, body);
    if (status == ReadStatus::kEnd) break;
    if (status == ReadStatus::kBadHeader) {
      WriteMessage(out_, ErrorResponse(nullptr, kInvalidRequest, "a message without a valid Content-Length"));
      continue;
    }
    json message = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
      WriteMessage(out_, ErrorResponse(nullptr, kParseError, "the message is not JSON"));
      continue;
    }
    Handle(message);
  }
  return shutdown_ ? 0 : 1;
}

void Server::Handle(const json& message) {
  const bool request = message.is_object() && message.contains("id");
  const json id = request ? message["id"] : json(nullptr);
  if (!message.is_object() || !message.contains("method") || !message["method"].is_string()) {
    // A response to a request of ours (we send none) or something else: a request
    // without a method is invalid; anything else is ignored.
    if (request || !message.is_object()) WriteMessage(out_, ErrorResponse(id, kInvalidRequest, "no method"));
    return;
  }
  const std::string method = message["method"];
  const json params = message.value("params", json::object());
  try {
    if (!request) {
      Notify(method, params);
      return;
    }
    if (!initialized_ && method != "initialize") {
      WriteMessage(out_, ErrorResponse(id, kServerNotInitialized, "initialize first"));
      return;
    }
    json result = Answer(method, params);
    WriteMessage(out_, {{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
  } catch (const RequestError& e) {
    if (request) WriteMessage(out_, ErrorResponse(id, e.code, e.what()));
  } catch (const json::exception& e) {
    // Missing or mistyped parameters.
    if (request) WriteMessage(out_, ErrorResponse(id, kInvalidParams, std::string("bad params: ") + e.what()));
  } catch (const std::exception& e) {
    if (request) WriteMessage(out_, ErrorResponse(id, kInternalError, e.what()));
  }
}

json Server::Answer(const std::string& method, const json& params) {
  if (method == "initialize") {
    initialized_ = true;
    std::string root;
    if (params.contains("rootUri") && params["rootUri"].is_string()) {
      root = UriToPath(params["rootUri"].get<std::string>());
    } else if (params.contains("rootPath") && params["rootPath"].is_string()) {
      root = params["rootPath"].get<std::string>();
    }
    if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array() &&
        !params["workspaceFolders"].empty()) {
      root = UriToPath(params["workspaceFolders"][0].at("uri").get<std::string>());
    }
    if (!root.empty()) workspace_.SetRoot(std::filesystem::weakly_canonical(root).string());
    return {{"capabilities",
             {{"positionEncoding", "utf-16"},
              {"textDocumentSync", {{"openClose", true}, {"change", 1}, {"save", true}}},
              {"hoverProvider", true},
              {"definitionProvider", true},
              {"completionProvider", {{"triggerCharacters", {"."}}}},
              {"documentFormattingProvider", true},
              {"documentSymbolProvider", true},
              {"renameProvider", true}}},
            {"serverInfo", {{"name", "juncture"}, {"version", "0.1.0"}}}};
  }
  if (method == "shutdown") {
    shutdown_ = true;
    return nullptr;
  }
  if (method == "textDocument/hover") return Hover(workspace_, PathOf(params), PositionOf(params));
  if (method == "textDocument/definition") return Definition(workspace_, PathOf(params), PositionOf(params));
  if (method == "textDocument/completion") return Completion(workspace_, PathOf(params), PositionOf(params));
  if (method == "textDocument/formatting") return Formatting(workspace_, PathOf(params));
  if (method == "textDocument/documentSymbol") return DocumentSymbols(workspace_, PathOf(params));
  if (method == "textDocument/rename") {
    return Rename(workspace_, PathOf(params), PositionOf(params), params.at("newName").get<std::string>());
  }
  throw RequestError(kMethodNotFound, "no method " + method);
}

void Server::Notify(const std::string& method, const json& params) {
  if (method == "exit") {
    exit_ = true;
  } else if (method == "textDocument/didOpen") {
    workspace_.Open(PathOf(params), params.at("textDocument").at("text").get<std::string>());
    Publish();
  } else if (method == "textDocument/didChange") {
    // Full sync: the last change holds the whole text.
    const json& changes = params.at("contentChanges");
    if (!changes.empty()) workspace_.Change(PathOf(params), changes.back().at("text").get<std::string>());
    Publish();
  } else if (method == "textDocument/didClose") {
    workspace_.Close(PathOf(params));
    Publish();
  } else if (method == "textDocument/didSave" || method == "workspace/didChangeWatchedFiles") {
    Publish();
  }
  // Others (initialized, $/cancelRequest, $/setTrace, ...) need nothing.
}

void Server::Publish() {
  workspace_.Compile();
  std::map<std::string, json> all = Diagnostics(workspace_);
  // A file that left the program (an outside file closed): its problems go too.
  for (const std::string& gone : published_) {
    if (!all.count(gone)) all[gone] = json::array();
  }
  published_.clear();
  for (auto& [path, diagnostics] : all) {
    if (workspace_.current() && FindFile(*workspace_.current(), path) != compiler::kNoFile) {
      published_.insert(path);
    }
    WriteMessage(out_, {{"jsonrpc", "2.0"},
                        {"method", "textDocument/publishDiagnostics"},
                        {"params", {{"uri", PathToUri(path)}, {"diagnostics", diagnostics}}}});
  }
}

}  // namespace juncture::lsp
