// The main thread of `juncture serve`: waits for a stop signal, reloading the program on
// SIGHUP or when a watched file changes. Private to serve/.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <optional>
#include <vector>

#include "juncture/serve/serve.h"

namespace juncture::serve {

class Telemetry;

// Compiles the program again for a reload (`why` says what asked for it), logging and
// counting the outcome; nullopt (the running program stays) if it does not compile.
std::optional<runtime::CompiledProgram> LoadForReload(const ProgramLoader& loader,
                                                      Telemetry& metrics, const std::string& why);

class StopSignals {
 public:
  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, and so in every thread it
  // starts afterwards (NATS.c's, the workers'): only Wait takes them. Construct before
  // any thread starts.
  explicit StopSignals(const std::vector<std::string>& watch_files);
  // Returns on SIGTERM or SIGINT. Calls `reload(why)` on SIGHUP or when a watched file's
  // modification time changes, and `tick()` about once a second.
  void Wait(const std::function<void(const std::string& why)>& reload,
            const std::function<void()>& tick);

 private:
  bool WatchedFilesChanged();
  sigset_t signals_{};
  std::vector<std::pair<std::string, int64_t>> watched_;  // file, mtime
};

}  // namespace juncture::serve
