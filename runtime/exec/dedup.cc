// Deduplication by messageId (EngineLimits::dedup_window_us, docs/wire.md).
//
// At-least-once pipelines (Segment's, RudderStack's, an SDK's retries, NATS
// redeliveries) deliver some messages twice. Each customer keeps the messages taken
// for it within the window, oldest first, as a 64-bit hash of the id (XXH3) and the
// decision time: 16 bytes each, at most EngineLimits::max_dedup_ids of them, kept
// with the rest of the customer's state (snapshots and the state store). A message
// whose id is among them is not decided again. Two different ids of one customer
// share a hash with a probability of about 2^-64 per pair.
#include <xxhash.h>

#include "exec/engine_impl.h"

namespace juncture::runtime {

bool Engine::Impl::SeenBefore(const Message& m, CustomerState& c, uint64_t& hash) {
  if (limits_.dedup_window_us <= 0) return false;
  hash = XXH3_64bits(m.message_id.data(), m.message_id.size());
  // Times only grow (a message is never decided before the previous one), so what
  // has left the window is at the front.
  size_t expired = 0;
  while (expired < c.seen.size() && c.seen[expired].at_us <= m.time_us - limits_.dedup_window_us) {
    ++expired;
  }
  if (expired != 0) c.seen.erase(c.seen.begin(), c.seen.begin() + expired);
  for (const SeenMessage& s : c.seen) {
    if (s.id_hash != hash) continue;
    ++stats_.duplicates;
    if (tracing_) {
      Trace(TraceKind::kMessage, 0, m.time_us, {}, {}, 0,
            "message " + m.message_id + " again (taken " + FormatTimestamp(s.at_us) +
                "): a duplicate, ignored");
    }
    return true;
  }
  return false;
}

void Engine::Impl::RememberMessage(uint64_t hash, int64_t at_us, CustomerState& c) {
  if (limits_.dedup_window_us <= 0 || limits_.max_dedup_ids == 0) return;
  if (c.seen.size() >= limits_.max_dedup_ids) {
    c.seen.erase(c.seen.begin(), c.seen.begin() + (c.seen.size() - limits_.max_dedup_ids + 1));
  }
  c.seen.push_back(SeenMessage{hash, at_us});
  if (c.seen_fresh != kSeenFreshAll) ++c.seen_fresh;
}

}  // namespace juncture::runtime
