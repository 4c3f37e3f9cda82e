// A three-node nats-server cluster with JetStream on loopback, for the cluster tests:
// each node on free client and route ports, with a store of its own, stopped by PID.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.h"

namespace juncture::itest {

class NatsCluster {
 public:
  // Starts `n` nodes routed to each other; true once every one is ready for clients
  // (JetStream's meta leader may still be in election: callers retry their first
  // JetStream request).
  bool Start(int n = 3) {
    std::vector<int> route_ports;
    for (int i = 0; i < n; ++i) route_ports.push_back(FreePort());
    std::string routes;
    for (int p : route_ports) routes += (routes.empty() ? "" : ",") + Route(p);
    for (int i = 0; i < n; ++i) {
      nodes_.push_back(std::make_unique<NatsServer>());
      if (!nodes_.back()->Start({"-n", "node" + std::to_string(i), "--cluster_name", "juncture",
                                 "--cluster", Route(route_ports[i]), "--routes", routes})) {
        return false;
      }
    }
    return true;
  }
  NatsServer& node(int i) { return *nodes_[static_cast<size_t>(i)]; }
  // Every node's client URL, comma-separated (NATS.c tries them in turn).
  std::string urls() const {
    std::string out;
    for (const auto& n : nodes_) out += (out.empty() ? "" : ",") + n->url();
    return out;
  }

 private:
  static std::string Route(int port) { return "nats://127.0.0.1:" + std::to_string(port); }
  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

}  // namespace juncture::itest
