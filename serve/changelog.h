// A partition's state in JetStream (`serve --cluster`): the compacted changelog from
// which whichever instance holds a partition restores it (docs/scaling.md, "Cluster").
// Private to serve/.
//
// One stream per cluster, JUNCTURE_STATE_<CLUSTER>, with a subject per piece of state:
//
//   juncture.state.<cluster>.<partition>.c.<customer>  a customer's piece (CBOR)
//   juncture.state.<cluster>.<partition>.t.<customer>  that customer's pending timers
//   juncture.state.<cluster>.<partition>.l             the program's record layouts
//   juncture.state.<cluster>.<partition>.pos           the position: the last input
//       sequence decided (header Juncture-Position), the engine-wide values (body)
//
// (<customer> is the id's bytes in hex: any id is a valid subject token that way.)
// Every message carries header Juncture-Seq: the partition's input sequence when it
// was written. An empty body means "none" (no such customer, no timer, no layouts).
//
// A commit writes the pieces that changed, waits until the stream has them all, then
// writes the position, fenced by the position's last stream sequence (a position
// written meanwhile by another instance refuses ours). The stream keeps the last TWO
// messages of each subject: a commit cut between its pieces and its position leaves
// pieces newer than the position, and the version before each is still there. A
// restore takes, for every subject, the latest message whose Juncture-Seq is at most
// the position's: the state as of the position, whole. It then writes those versions
// again, tagged with the position, so that no subject keeps a version newer than the
// position that a later position would make current by mistake. After a failed write
// the caller restores the partition again before writing to it: at most one
// unconfirmed version of a subject exists at any time.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "juncture/runtime/runtime.h"
#include "juncture/runtime/state_changes.h"

namespace juncture::serve {

// The stream of a cluster's changelog.
std::string ChangelogStream(const std::string& cluster);
// Creates the stream if missing (file storage, `replicas`, last two per subject);
// checks an existing one keeps at least two messages per subject.
bool EnsureChangelog(jsCtx* js, const std::string& cluster, int replicas, std::string* error);

// The acknowledgements of a cluster's changelog writes: the asynchronous ack handler
// of the JetStream context the changelogs write through (one writer thread).
struct ChangelogAcks {
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* self);
  std::atomic<uint64_t> failures{0};
  std::mutex mu;
  std::string last_error;  // under mu
};

// Where a partition's state stands: every input message up to `input_seq` (a
// sequence of the events stream) is in it.
struct ChangelogPosition {
  uint64_t input_seq = 0;
};

class PartitionChangelog {
 public:
  // `js`: a JetStream context whose asynchronous ack handler is ChangelogAcks::OnAck
  // with `acks` (shared by the partitions a thread writes one after another).
  PartitionChangelog(jsCtx* js, ChangelogAcks* acks, const std::string& cluster,
                     uint32_t partition);

  // Loads the partition's state as of its position into `engine` (a new engine) and
  // sets *position. False with *error if the stream cannot be read or a piece is not
  // intact: then nothing reached the engine.
  bool Restore(runtime::Engine& engine, ChangelogPosition* position, std::string* error);
  // Writes `changes` (taken from the partition's engine since the last write), then
  // the position. False with *error if it could not; *fenced if another instance
  // wrote the partition's position since this one read or wrote it. After a false,
  // Restore before the next Write.
  bool Write(const runtime::StateChanges& changes, const ChangelogPosition& position,
             bool* fenced, std::string* error);

  size_t customers_restored() const { return customers_restored_; }

 private:
  struct TimerEntry {
    int64_t due_us = 0;
    std::string piece;  // CBOR
    bool cancelled = false;
  };
  using Timers = std::map<uint64_t, TimerEntry>;  // by sequence
  static std::string EncodeTimers(const Timers& timers);
  static bool DecodeTimers(std::string_view bytes, Timers* out);
  // Records `changes`' timer operations in timers_; the customers whose timers changed.
  std::vector<std::string> ApplyTimerOps(const runtime::StateChanges& changes);
  std::string Subject(const char* kind, std::string_view customer = {}) const;
  // Publishes one message tagged with `seq` (asynchronously).
  bool PublishPiece(const std::string& subject, std::string_view body, uint64_t seq,
                    std::string* error);
  // Waits for every asynchronous publish's ack; false if one failed.
  bool AwaitAcks(std::string* error);

  jsCtx* js_;
  ChangelogAcks* acks_;
  std::string stream_;
  std::string prefix_;  // juncture.state.<cluster>.<partition>.
  uint64_t position_msg_seq_ = 0;  // stream sequence of the position last read or written
  // Every customer's pending timers, as the .t pieces hold them: a timer's change
  // rewrites its customer's whole piece.
  std::unordered_map<std::string, Timers> timers_;
  std::unordered_map<uint64_t, std::string> owner_;  // timer sequence -> customer
  size_t customers_restored_ = 0;
};

}  // namespace juncture::serve
