#include "stop_signals.h"

#include <pthread.h>
#include <sys/stat.h>

#include "shard.h"
#include "telemetry.h"

namespace juncture::serve {

namespace {

int64_t MtimeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

std::optional<runtime::CompiledProgram> LoadForReload(const ProgramLoader& loader,
                                                      Telemetry& metrics, const std::string& why) {
  ServeLog("reloading the program (" + why + ")");
  Result<runtime::CompiledProgram> program = loader();
  if (program.ok()) return *std::move(program);
  metrics.Reload(false);
  ServeLog("reload failed; the running program stays:\n" + program.status().message());
  return std::nullopt;
}

StopSignals::StopSignals(const std::vector<std::string>& watch_files) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  for (const std::string& f : watch_files) watched_.emplace_back(f, MtimeOf(f));
}

bool StopSignals::WatchedFilesChanged() {
  bool changed = false;
  for (auto& [file, mtime] : watched_) {
    int64_t now = MtimeOf(file);
    if (now != mtime) {
      mtime = now;
      changed = true;
    }
  }
  return changed;
}

void StopSignals::Wait(const std::function<void(const std::string& why)>& reload,
                       const std::function<void()>& tick) {
  timespec second{1, 0};
  while (true) {
    int sig = sigtimedwait(&signals_, nullptr, &second);
    if (sig == SIGTERM || sig == SIGINT) return;
    if (sig == SIGHUP) {
      reload("SIGHUP");
    } else if (WatchedFilesChanged()) {
      reload("a program file changed");
    }
    tick();
  }
}

}  // namespace juncture::serve
