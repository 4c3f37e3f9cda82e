// A partition's state in JetStream (`serve --cluster`): the compacted changelog from
// which whichever instance holds a partition restores it (docs/scaling.md, "Cluster").
// Private to serve/.
//
// One stream per partition, JUNCTURE_STATE_<CLUSTER>_<PARTITION>, with a subject per
// piece of state:
//
//   juncture.state.<cluster>.<partition>.c.<customer>  a customer's piece (CBOR)
//   juncture.state.<cluster>.<partition>.t.<customer>  that customer's pending timers
//   juncture.state.<cluster>.<partition>.l             the program's record layouts
//   juncture.state.<cluster>.<partition>.pos           the position: the last input
//       sequence decided (header Juncture-Position) in the events stream created at
//       (header Juncture-Events-Stream), the engine-wide values (body)
//
// (<customer> is the id's bytes in hex: any id is a valid subject token that way.)
// Every message carries header Juncture-Seq: the partition's input sequence when it
// was written. An empty body means "none" (no such customer, no timer, no layouts).
//
// Fencing: a holder's tenure is an epoch (a random token), written on every message;
// a position records its epoch and the input sequence the epoch started at (its
// restore's position). A position names the stream sequence of the position it
// follows (Nats-Expected-Last-Subject-Sequence), and a restore ends by writing the
// position again in its new epoch: after that, a previous holder's position is
// refused, and a piece counts only if the position's epoch wrote it at or before the
// position, or an earlier epoch wrote it at or before this epoch's start. So nothing a
// previous holder writes after losing the partition, however late it lands, is ever
// taken for state.
//
// A commit writes the pieces that changed, then the position. The stream keeps the
// last TWO messages of each subject: a commit cut between its pieces and its position
// (a crash, a refused write) leaves pieces newer than the position, and the version
// before each is still there. A restore takes, for every subject, the latest message
// whose Juncture-Seq is at most the position's: the state as of the position, whole.
// It then writes those versions again, tagged with the position, so that no subject
// keeps a version newer than the position that a later position would make current by
// mistake. After a failed write the caller restores the partition again before writing
// to it.
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

// The stream of one partition's changelog.
std::string ChangelogStream(const std::string& cluster, uint32_t partition);

// The acknowledgements of a cluster's changelog writes: the asynchronous ack handler
// of the JetStream context the changelogs write through (one writer thread).
struct ChangelogAcks {
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* self);
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> fenced{false};  // a failure was JetStream's "wrong last sequence"
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
  // `replicas`: of the stream, if Restore creates it.
  PartitionChangelog(jsCtx* js, ChangelogAcks* acks, const std::string& cluster,
                     uint32_t partition, int replicas);

  // Loads the partition's state as of its position into `engine` (a new engine) and
  // returns the position; from then on, only this changelog's writes land (fencing,
  // above). Creates the stream if it is missing. An error if the stream cannot be read
  // or written (kUnavailable), or a piece is not intact (kCorruption): then nothing
  // reached the engine.
  // `events_created_ns`: when the events stream was created (0: not checked); a
  // position written on another events stream (deleted and created again since: its
  // sequences mean other messages now) is refused.
  Result<ChangelogPosition> Restore(runtime::Engine& engine, int64_t events_created_ns);
  // Writes `changes` (taken from the partition's engine since the last write), then
  // the position. An error if it could not; *fenced if another instance wrote the
  // partition's position since this one read or wrote it. After an error, Restore
  // before the next Write.
  Status Write(const runtime::StateChanges& changes, const ChangelogPosition& position,
               bool* fenced);

  size_t customers_restored() const { return customers_restored_; }
  // After Restore: subjects whose two kept versions were both not state (stray
  // pieces of cut commits or of previous holders): a version that was state may have
  // been pushed out, and that customer restored without it.
  const std::vector<std::string>& suspect_subjects() const { return lost_; }

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
  Status EnsureStream();
  // Publishes one message tagged with `seq` and the epoch (asynchronously).
  Status PublishPiece(const std::string& subject, std::string_view body, uint64_t seq);
  // The position (synchronously), fenced: refused (kFailedPrecondition, *fenced) if
  // another position was written since the one this changelog last read or wrote.
  Status PublishPosition(std::string_view globals, uint64_t seq, bool* fenced);
  // Waits for every asynchronous publish's ack; an error if one failed.
  Status AwaitAcks();

  jsCtx* js_;
  ChangelogAcks* acks_;
  std::string stream_;
  std::string prefix_;  // juncture.state.<cluster>.<partition>.
  int replicas_;
  uint64_t position_msg_seq_ = 0;  // stream sequence of the position last read or written
  std::string epoch_;            // this holder's tenure (a random token), on every write
  uint64_t epoch_start_ = 0;     // the input sequence it restored at
  int64_t events_created_ns_ = 0;  // the events stream's, recorded with each position
  // Every customer's pending timers, as the .t pieces hold them: a timer's change
  // rewrites its customer's whole piece.
  std::unordered_map<std::string, Timers> timers_;
  std::unordered_map<uint64_t, std::string> owner_;  // timer sequence -> customer
  size_t customers_restored_ = 0;
  std::vector<std::string> lost_;  // see suspect_subjects()
};

}  // namespace juncture::serve
