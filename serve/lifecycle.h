// What Serve() (the command, owning the process's signals) and Service (the library
// form, started and stopped by its caller) both drive: a standalone Server or a
// ClusterMember. Private to serve/.
#pragma once

#include <string>

#include "juncture/status.h"

namespace juncture::serve {

class Lifecycle {
 public:
  virtual ~Lifecycle() = default;
  // Connects, restores, subscribes; an error if it cannot.
  virtual Status Start() = 0;
  // Takes over the optimiser's form of the program (after Start; may take a while).
  virtual void Optimize() = 0;
  // Compiles the program again and switches to it if it compiles.
  virtual void Reload(const std::string& why) = 0;
  // About once a second while it runs.
  virtual void Tick() = 0;
  // Graceful stop: drain or checkpoint; one of the exit codes of serve.h.
  virtual int Shutdown() = 0;
  virtual void Log(const std::string& line) const = 0;
};

}  // namespace juncture::serve
