#include "process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace juncture::itest {

namespace fs = std::filesystem;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int BoundMetricsPort(const std::string& output) {
  size_t at = output.rfind("metrics on http");
  if (at == std::string::npos) return -1;
  size_t end = output.find("/metrics", at + 15);
  size_t colon = output.rfind(':', end);
  if (end == std::string::npos || colon == std::string::npos || colon < at) return -1;
  try {
    return std::stoi(output.substr(colon + 1, end - colon - 1));
  } catch (const std::exception&) {
    return -1;
  }
}

TempDir::TempDir() {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               ("juncture-itest-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(p);
  path_ = p.string();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Process::~Process() {
  if (pid_ > 0) Stop(SIGKILL, 5000);
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& log) {
  log_ = log;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::Stop(int sig, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string Process::Output() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Process::WaitForOutput(const std::string& text, int timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Output().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::string FindProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/usr/local/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path p = fs::path(dir) / name;
    if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

std::vector<std::string> NatsServer::Argv() const {
  // Port -1: nats-server chooses a free one and logs it (Start reads it); a restart
  // asks for the same one again.
  std::vector<std::string> argv = {FindProgram("nats-server"), "-a", "127.0.0.1", "-p",
                                   std::to_string(port_ > 0 ? port_ : -1), "-js", "-sd", dir_.path() + "/store"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  return argv;
}

bool NatsServer::Start(std::vector<std::string> extra) {
  extra_ = std::move(extra);
  if (FindProgram("nats-server").empty()) return false;
  if (!process_.Start(Argv(), dir_.path() + "/nats-server.log")) {
    return false;
  }
  if (!process_.WaitForOutput("Server is ready", 10000)) return false;
  const std::string out = process_.Output();
  const std::string needle = "Listening for client connections on 127.0.0.1:";
  size_t at = out.find(needle);
  if (at == std::string::npos) return false;
  port_ = std::atoi(out.c_str() + at + needle.size());
  return port_ > 0;
}

bool NatsServer::Restart(int sig) {
  process_.Stop(sig);
  // The log is appended to: wait for a second "ready".
  std::string before = process_.log().empty() ? "" : process_.Output();
  size_t readies = 0;
  for (size_t at = before.find("Server is ready"); at != std::string::npos;
       at = before.find("Server is ready", at + 1)) {
    ++readies;
  }
  if (!process_.Start(Argv(), dir_.path() + "/nats-server.log")) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = process_.Output();
    size_t n = 0;
    for (size_t at = out.find("Server is ready"); at != std::string::npos;
         at = out.find("Server is ready", at + 1)) {
      ++n;
    }
    if (n > readies) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void NatsServer::Stop() { process_.Stop(SIGTERM); }
void NatsServer::Freeze() { ::kill(process_.pid(), SIGSTOP); }
void NatsServer::Thaw() { ::kill(process_.pid(), SIGCONT); }

}  // namespace juncture::itest
