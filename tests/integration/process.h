// Child processes for integration tests: nats-server and `juncture serve`, started
// with posix_spawn, output to files, stopped by PID. Never a mock: the real binaries.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace juncture::itest {

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
// Another process may take it before it is used: where serve listens, prefer port 0
// and BoundMetricsPort.
int FreePort();

// The port of the last "metrics on http(s)://HOST:PORT/metrics" in serve's log (its
// start line names the bound port, so `--metrics 127.0.0.1:0` can be found); -1 if
// there is none.
int BoundMetricsPort(const std::string& output);

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Process {
 public:
  Process() = default;
  ~Process();  // kills (SIGKILL) and reaps a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts `argv` with stdout and stderr appended to `log`. False if it cannot start.
  bool Start(const std::vector<std::string>& argv, const std::string& log);
  // Sends `sig` and waits up to `timeout_ms` for the exit; returns the exit status as
  // waitpid reports it, or -1 on timeout (the child is then killed).
  int Stop(int sig, int timeout_ms = 10000);
  bool running();
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }
  // The log so far.
  std::string Output() const;
  // Waits until the log contains `text` (true) or `timeout_ms` passes (false).
  bool WaitForOutput(const std::string& text, int timeout_ms) const;

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// nats-server on 127.0.0.1 and a port it chooses (url() is valid after Start), JetStream
// on (its store in a temp dir).
class NatsServer {
 public:
  NatsServer() = default;
  // `extra`: more nats-server arguments (e.g. --user/--pass), kept for Restart.
  bool Start(std::vector<std::string> extra = {});
  // Stops (SIGTERM, or `sig`: SIGKILL for a crash) and starts again on the same port
  // and store.
  bool Restart(int sig = 15);
  // SIGSTOP / SIGCONT: a server that stalls (a GC pause, a VM steal, a full disk).
  void Freeze();
  void Thaw();
  void Stop();
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const Process& process() const { return process_; }

 private:
  std::vector<std::string> Argv() const;

  TempDir dir_;
  int port_ = 0;  // 0 until Start has read the chosen one
  std::vector<std::string> extra_;
  Process process_;
};

// GET http://127.0.0.1:port/path (HTTP/1.0): the whole response, "" on failure.
std::string HttpGet(int port, const std::string& path);

// The path of a binary found on PATH or in /usr/sbin, /usr/bin ("" if none).
std::string FindProgram(const std::string& name);

}  // namespace juncture::itest
