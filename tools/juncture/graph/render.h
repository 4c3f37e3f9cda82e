// Laying out and rendering DOT text with Graphviz's library (libgvc, the `dot` layout).
#pragma once

#include <string>

namespace juncture::tools::graph {

// Renders `dot` into `format` ("svg", "png", or any output format the installed
// Graphviz plugins know) in `out`. Returns false with `error` set if it cannot.
bool RenderDot(const std::string& dot, const std::string& format, std::string& out,
               std::string& error);

}  // namespace juncture::tools::graph
