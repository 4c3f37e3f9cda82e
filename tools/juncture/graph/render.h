// Laying out and rendering DOT text with Graphviz's library (libgvc, the `dot` layout).
#pragma once

#include <string>

#include "juncture/status.h"

namespace juncture::tools::graph {

// Renders `dot` into `format` ("svg", "png", or any output format the installed
// Graphviz plugins know); an invalid-argument error (with Graphviz's messages) if it
// cannot.
Result<std::string> RenderDot(const std::string& dot, const std::string& format);

}  // namespace juncture::tools::graph
