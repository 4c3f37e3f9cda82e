// The JetStream streams serve depends on, checked before it consumes or publishes.
//
// Serve's JetStream guarantees (docs/serve.md) hold only if the streams are shaped
// for them: the events stream must hold every subject serve consumes and keep
// messages until serve acks them; the actions stream must hold every action
// subject, acknowledge each publish, and remember action ids long enough to drop a
// replayed action. A stream that is missing is created; one that exists is checked,
// and a problem refuses the start with a message that names the stream, what is
// wrong, why it matters and how to fix it, unless `fix` is set and the problem can
// be repaired by updating the stream (subjects, duplicate window, acks).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/status.h"

namespace juncture::serve {

// True if every subject that `subject` matches (it may hold * and > wildcards) is
// also matched by `pattern`: "juncture.>" covers "juncture.events.>", but
// "juncture.events.web" does not cover "juncture.events.>".
bool SubjectCovers(std::string_view pattern, std::string_view subject);

// The actions stream must remember an action id at least this long (a replay
// after a restart within it never stores an action twice).
constexpr int64_t kMinActionDedupeNs = int64_t{3600} * 1'000'000'000;

struct StreamNeeds {
  std::string name;
  std::vector<std::string> subjects;  // each must be covered by the stream's subjects
  int64_t min_duplicates_ns = 0;      // 0: no requirement on the duplicate window
  bool consumer_is_recreated = false;  // events: interest retention would lose messages
  int replicas = 1;                    // when created (a cluster's streams: 3)
};

// What checking a stream found. `problems` refuse the start (all of them listed);
// `warnings` are logged; `created`/`fixed` say what was changed.
struct StreamCheck {
  std::vector<std::string> problems;
  std::vector<std::string> warnings;
  bool created = false;
  std::vector<std::string> fixed;
  uint64_t first_seq = 0;  // the stream's first sequence now (0: never held a message)
  uint64_t last_seq = 0;   // the stream's last sequence now
  int64_t created_ns = 0;  // when the stream was created: which stream this is
};

// Creates the stream if it is missing (file storage, limits retention, the needed
// subjects and duplicate window); otherwise checks it against `needs`, repairing
// what can be repaired when `fix` is set. Unavailable when a NATS call fails (the
// error is that call's); a stream that does not fit is reported in check->problems,
// not as an error.
Status EnsureStream(jsCtx* js, const StreamNeeds& needs, bool fix, StreamCheck* check);

// "stream X: <JetStream error text> (JetStream error N)" for a failed call.
std::string JsError(natsStatus s, jsErrCode code);

// How long the request that creates an ordered consumer waits for its answer.
// NATS.c makes an ordered consumer a single replica, and nats-server places it on one
// of the stream's peers at random, a dead one included: while a node of three is down,
// one such request in three is never answered. A short wait (normally the answer takes
// milliseconds) turns that into a quick failure the caller tries again, instead of the
// context's five seconds, which would outlast the leases of a cluster's instance.
constexpr int64_t kOrderedConsumerCreateWaitMs = 1000;

// Options for js_Subscribe/js_SubscribeSync with an ordered consumer: the wait above.
jsOptions OrderedConsumerCreateOptions();

}  // namespace juncture::serve
