#include "streams.h"

#include <memory>

#include "nats_connection.h"

namespace juncture::serve {

namespace {

std::vector<std::string_view> Tokens(std::string_view subject) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t dot = subject.find('.', start);
    out.push_back(subject.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// "1h", "90s", "250ms": a NATS duration (nanoseconds) for messages.
std::string Duration(int64_t ns) {
  int64_t ms = ns / 1'000'000;
  if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0 && ms > 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string Joined(const char** items, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + std::string(items[i]);
  return out.empty() ? "none" : out;
}

struct InfoDeleter {
  void operator()(jsStreamInfo* i) const { jsStreamInfo_Destroy(i); }
};
using InfoPtr = std::unique_ptr<jsStreamInfo, InfoDeleter>;

bool Covered(const jsStreamConfig& cfg, const std::string& subject) {
  for (int i = 0; i < cfg.SubjectsLen; ++i) {
    if (SubjectCovers(cfg.Subjects[i], subject)) return true;
  }
  // A stream created without subjects takes its name as its only subject.
  return cfg.SubjectsLen == 0 && cfg.Name != nullptr && subject == cfg.Name;
}

Status Create(jsCtx* js, const StreamNeeds& needs, StreamCheck* check) {
  std::vector<const char*> subjects;
  for (const std::string& s : needs.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = needs.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Replicas = needs.replicas;
  if (needs.min_duplicates_ns > 0) cfg.Duplicates = needs.min_duplicates_ns;
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&raw, js, &cfg, nullptr, &code);
  InfoPtr info(raw);
  if (s != NATS_OK) {
    return UnavailableError("cannot create stream " + needs.name + ": " + JsError(s, code));
  }
  check->created = true;
  check->created_ns = info->Created;
  return OkStatus();
}

}  // namespace

std::string JsError(natsStatus s, jsErrCode code) {
  std::string out = NatsErrorText(s);
  if (code != 0) out += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return out;
}

jsOptions OrderedConsumerCreateOptions() {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = kOrderedConsumerCreateWaitMs;
  return o;
}

bool SubjectCovers(std::string_view pattern, std::string_view subject) {
  std::vector<std::string_view> p = Tokens(pattern), s = Tokens(subject);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return i < s.size();  // > matches one or more tokens, wildcards too
    if (i >= s.size() || s[i] == ">") return false;
    if (p[i] != "*" && p[i] != s[i]) return false;  // a literal covers only itself
  }
  return p.size() == s.size();
}

Status EnsureStream(jsCtx* js, const StreamNeeds& needs, bool fix, StreamCheck* check) {
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&raw, js, needs.name.c_str(), nullptr, &code);
  InfoPtr info(raw);
  if (s == NATS_NOT_FOUND) return Create(js, needs, check);
  if (s != NATS_OK) {
    return UnavailableError("stream " + needs.name + ": " + JsError(s, code));
  }
  const jsStreamConfig& cfg = *info->Config;
  // An emptied stream (every message deleted) starts after its last sequence.
  check->first_seq = info->State.FirstSeq;
  check->last_seq = info->State.LastSeq;
  check->created_ns = info->Created;
  const std::string name = "stream " + needs.name;
  const std::string fix_hint = " (or start serve with --fix-streams to update the stream)";

  // Repairable: subjects, the duplicate window, acknowledgements.
  std::vector<std::string> add;  // subjects to add
  for (const std::string& subject : needs.subjects) {
    if (!Covered(cfg, subject)) add.push_back(subject);
  }
  bool short_window = needs.min_duplicates_ns > 0 && cfg.Duplicates < needs.min_duplicates_ns;
  std::vector<std::string> repairs;
  for (const std::string& subject : add) {
    repairs.push_back(name + " has the subjects " + Joined(cfg.Subjects, cfg.SubjectsLen) +
                      ", which do not cover " + subject +
                      ": messages on it would never reach the stream; add " + subject);
  }
  if (short_window) {
    repairs.push_back(name + " remembers message ids for " + Duration(cfg.Duplicates) +
                      ": a replay after a restart could store an action twice; it needs a "
                      "duplicate window of at least " + Duration(needs.min_duplicates_ns));
  }
  if (cfg.NoAck) {
    repairs.push_back(name + " does not acknowledge publishes (no_ack): serve could not know "
                      "that a message was stored");
  }

  // Not repairable by an update.
  if (cfg.Mirror != nullptr) {
    check->problems.push_back(name + " is a mirror, which takes no publishes or consumers "
                              "of its own; use another stream name");
  }
  if (cfg.Sealed) check->problems.push_back(name + " is sealed: it takes no new messages");
  if (needs.consumer_is_recreated && cfg.Retention == js_InterestPolicy) {
    check->problems.push_back(
        name + " has interest retention: serve re-creates its consumer at its checkpoint on "
               "every start, and deleting that consumer would delete the messages not decided "
               "yet; use limits or work-queue retention (retention cannot be changed: create "
               "the stream again)");
  }
  if (needs.consumer_is_recreated &&
      (cfg.MaxAge > 0 || (cfg.Discard == js_DiscardOld && (cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 ||
                                                          cfg.MaxMsgsPerSubject > 0)))) {
    check->warnings.push_back(
        name + " has limits (max age " + (cfg.MaxAge > 0 ? Duration(cfg.MaxAge) : "none") +
        ", max messages " + std::to_string(cfg.MaxMsgs) + ", max bytes " +
        std::to_string(cfg.MaxBytes) +
        ") that delete messages whether serve has decided them or not; "
        "messages deleted before serve reads them are lost (serve reports them at start)");
  }
  if (!needs.consumer_is_recreated && cfg.Discard == js_DiscardNew &&
      (cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 || cfg.MaxMsgsPerSubject > 0)) {
    check->warnings.push_back(name + " refuses new messages when full (discard new): serve "
                              "then stops acking events until it can store its actions");
  }

  if (repairs.empty()) return OkStatus();
  if (!fix || !check->problems.empty()) {
    for (std::string& r : repairs) check->problems.push_back(fix ? r : r + fix_hint);
    return OkStatus();
  }
  // --fix-streams: the same configuration with the repairs.
  jsStreamConfig updated = cfg;
  // The stream's subjects that an added one covers are replaced by it (a stream's
  // subjects must not overlap).
  std::vector<const char*> subjects;
  for (int i = 0; i < cfg.SubjectsLen; ++i) {
    bool covered = false;
    for (const std::string& subject : add) covered = covered || SubjectCovers(subject, cfg.Subjects[i]);
    if (!covered) subjects.push_back(cfg.Subjects[i]);
  }
  for (const std::string& subject : add) subjects.push_back(subject.c_str());
  updated.Subjects = subjects.data();
  updated.SubjectsLen = static_cast<int>(subjects.size());
  if (short_window) updated.Duplicates = needs.min_duplicates_ns;
  updated.NoAck = false;
  jsStreamInfo* after = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_UpdateStream(&after, js, &updated, nullptr, &code);
  InfoPtr after_info(after);
  if (s != NATS_OK) {
    return UnavailableError("cannot update " + name + ": " + JsError(s, code));
  }
  check->fixed = std::move(repairs);
  return OkStatus();
}

}  // namespace juncture::serve
