#include "juncture/graph/render.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>

namespace juncture::tools::graph {
namespace {

// Graphviz reports errors through a callback; keep the last one instead of printing.
std::string* g_error = nullptr;
int KeepError(char* message) {
  if (g_error != nullptr) *g_error += message;
  return 0;
}

}  // namespace

Result<std::string> RenderDot(const std::string& dot, const std::string& format) {
  std::string messages;
  g_error = &messages;
  agseterrf(KeepError);
  agseterr(AGERR);  // errors only: warnings (a font not found) are not failures

  std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContext(), gvFreeContext);
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> g(agmemread(dot.c_str()), agclose);
  Result<std::string> out = InternalError("not rendered");
  if (!gvc || !g) {
    out = InvalidArgumentError("Graphviz cannot read the graph: " + messages);
  } else if (gvLayout(gvc.get(), g.get(), "dot") != 0) {
    out = InvalidArgumentError("Graphviz cannot lay out the graph: " + messages);
  } else {
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(gvc.get(), g.get(), format.c_str(), &data, &length) != 0 || data == nullptr) {
      out = InvalidArgumentError("Graphviz cannot render the format '" + format + "'" +
                                 (messages.empty() ? "" : ": " + messages));
    } else {
      out = std::string(data, length);
    }
    if (data != nullptr) gvFreeRenderData(data);
    gvFreeLayout(gvc.get(), g.get());
  }
  g.reset();
  gvc.reset();
  agseterrf(nullptr);
  g_error = nullptr;
  return out;
}

}  // namespace juncture::tools::graph
