// The two ways to run serve: Serve(), the command's, which owns the process's signals,
// and Service, the library's, which its caller starts, reloads and stops.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster.h"
#include "lifecycle.h"
#include "server.h"
#include "stop_signals.h"
#include "juncture/serve/serve.h"

namespace juncture::serve {
namespace {

std::unique_ptr<Lifecycle> Make(const ServeOptions& options, const ProgramLoader& loader,
                                const ProgramOptimizer& optimizer) {
  if (!options.cluster.name.empty()) return std::make_unique<ClusterMember>(options, loader, optimizer);
  return std::make_unique<Server>(options, loader, optimizer);
}

}  // namespace

int Serve(const ServeOptions& options, const ProgramLoader& loader,
          const ProgramOptimizer& optimizer) {
  // Before NATS.c and the workers start their threads, which inherit the signal mask.
  StopSignals signals(options.watch_files);
  std::unique_ptr<Lifecycle> serve = Make(options, loader, optimizer);
  if (Status s = serve->Start(); !s.ok()) {
    serve->Log("cannot start: " + s.message());
    return kExitCannotStart;
  }
  serve->Optimize();  // deciding meanwhile with the loaded form
  signals.Wait([&](const std::string& why) { serve->Reload(why); }, [&] { serve->Tick(); });
  return serve->Shutdown();
}

struct Service::State {
  // The options, loader and optimiser live as long as the service (the server keeps
  // references to them).
  ServeOptions options;
  ProgramLoader loader;
  ProgramOptimizer optimizer;
  std::unique_ptr<Lifecycle> serve;
  std::mutex mu;  // Reload and Stop, one at a time
  std::condition_variable cv;
  bool stopping = false;
  std::thread ticks;
  int exit_code = -1;  // once stopped
};

Result<std::unique_ptr<Service>> Service::Start(const ServeOptions& options,
                                                const ProgramLoader& loader,
                                                const ProgramOptimizer& optimizer) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->loader = loader;
  state->optimizer = optimizer;
  state->serve = Make(state->options, state->loader, state->optimizer);
  if (Status s = state->serve->Start(); !s.ok()) return s;
  state->serve->Optimize();
  State* s = state.get();
  state->ticks = std::thread([s] {
    std::unique_lock<std::mutex> lock(s->mu);
    while (!s->cv.wait_for(lock, std::chrono::seconds(1), [s] { return s->stopping; })) {
      s->serve->Tick();
    }
  });
  return std::unique_ptr<Service>(new Service(std::move(state)));
}

Service::Service(std::unique_ptr<State> state) : state_(std::move(state)) {}

Service::~Service() { Stop(); }

void Service::Reload(const std::string& why) {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->stopping) state_->serve->Reload(why);
}

int Service::Stop() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return state_->exit_code;
    state_->stopping = true;
  }
  state_->cv.notify_all();
  state_->ticks.join();
  state_->exit_code = state_->serve->Shutdown();
  return state_->exit_code;
}

}  // namespace juncture::serve
