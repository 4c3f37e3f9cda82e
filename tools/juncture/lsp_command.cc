// juncture lsp: the language server for editors (Language Server Protocol over stdio;
// juncture/lsp/server.h). The workspace folder the editor opens is the program.
#include <iostream>
#include <memory>

#include "juncture/commands.h"
#include "juncture/lsp/server.h"

namespace juncture::tools {

Runner AddLspCommand(CLI::App& cmd) {
  auto stdio = std::make_shared<bool>(true);
  cmd.add_flag("--stdio", *stdio, "talk over stdin and stdout (the default and only transport)");
  return [stdio] {
    std::ios::sync_with_stdio(false);
    lsp::Server server(std::cin, std::cout);
    return server.Run();
  };
}

}  // namespace juncture::tools
