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

bool RenderDot(const std::string& dot, const std::string& format, std::string& out,
               std::string& error) {
  std::string messages;
  g_error = &messages;
  agseterrf(KeepError);
  agseterr(AGERR);  // errors only: warnings (a font not found) are not failures

  std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContext(), gvFreeContext);
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> g(agmemread(dot.c_str()), agclose);
  bool ok = false;
  if (!gvc || !g) {
    error = "Graphviz cannot read the graph: " + messages;
  } else if (gvLayout(gvc.get(), g.get(), "dot") != 0) {
    error = "Graphviz cannot lay out the graph: " + messages;
  } else {
    char* data = nullptr;
    unsigned int length = 0;
    if (gvRenderData(gvc.get(), g.get(), format.c_str(), &data, &length) != 0 || data == nullptr) {
      error = "Graphviz cannot render the format '" + format + "'" +
              (messages.empty() ? "" : ": " + messages);
    } else {
      out.assign(data, length);
      ok = true;
    }
    if (data != nullptr) gvFreeRenderData(data);
    gvFreeLayout(gvc.get(), g.get());
  }
  g.reset();
  gvc.reset();
  agseterrf(nullptr);
  g_error = nullptr;
  return ok;
}

}  // namespace juncture::tools::graph
