// What the two HTTP endpoints of serve share (GET /metrics and the live page): a
// server made with or without TLS, and the check of the access token. Private to
// serve/: it brings httplib's header.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "serve/metrics/http_server.h"

namespace juncture::serve::metrics {

// A plain server, or one speaking TLS with `security`'s certificate and key (an
// invalid-argument error if they cannot be read). Answers go out without Nagle's
// delay.
Result<std::unique_ptr<httplib::Server>> MakeServer(const HttpSecurity& security);

// Whether `req` carries the token (`Authorization: Bearer TOKEN`, or `?token=TOKEN`
// for a browser's page, its images and its event stream); true when none is needed.
// Sets a 401 on `res` when it does not.
bool Authorized(const HttpSecurity& security, const httplib::Request& req, httplib::Response& res);

// Binds `server` to `at` (port 0: any free one) now, so that a taken port or an
// unknown host fails here, then serves it on `thread` (which sets `done` when the
// server stops). Returns the bound port once the accept loop runs (from then on
// stop() always works), or an unavailable error and no thread started.
Result<int> BindAndServe(httplib::Server& server, const Endpoint& at, std::thread& thread,
                         std::atomic<bool>& done);

}  // namespace juncture::serve::metrics
