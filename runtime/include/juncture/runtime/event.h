// Input messages: Segment-spec `track` / `identify` JSON decoded into the program's
// fixed record layouts (docs/language.md, juncture/abi/abi.h).
//
// A decoded record owns its strings and lists; records are immutable once decoded
// and shared (RecordPtr) between the customer's history, journey instances and
// pending timers. Decoding never throws: a bad message yields a reason for the
// dead-letter output.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "juncture/abi/abi.h"
#include "juncture/runtime/program.h"
#include "juncture/status.h"

namespace juncture::runtime {

class Record;

// A counted reference to a Record (the count lives in the record: one allocation
// holds the count, the layout and its arena). `RecordRef<Record>` may write the
// record (while it is being built), `RecordRef<const Record>` (RecordPtr) only read
// it; the first converts to the second. Copies share the record; the last one frees
// it. The count is atomic: a record may be released on another thread.
template <class T>
class RecordRef {
 public:
  RecordRef() = default;
  RecordRef(std::nullptr_t) {}  // NOLINT: as a null pointer converts
  RecordRef(const RecordRef& o) : p_(o.p_) { Acquire(); }
  RecordRef(RecordRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  RecordRef(const RecordRef<U>& o) : p_(o.p_) {  // NOLINT: Record -> const Record
    Acquire();
  }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  RecordRef(RecordRef<U>&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}  // NOLINT
  RecordRef& operator=(RecordRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~RecordRef() { reset(); }

  T* get() const { return p_; }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset();
  friend bool operator==(const RecordRef& a, const RecordRef& b) { return a.p_ == b.p_; }
  friend bool operator==(const RecordRef& a, std::nullptr_t) { return a.p_ == nullptr; }

 private:
  template <class>
  friend class RecordRef;
  friend class Record;
  explicit RecordRef(T* adopted) : p_(adopted) {}  // takes over one count
  void Acquire();
  T* p_ = nullptr;
};

// A record's bytes plus the storage its strings and lists point into, in one
// allocation: the 16-byte header below, the fixed layout, then an arena of the size
// asked for at construction. Strings and lists are copied into the arena as long as
// it lasts; beyond that (records built piece by piece, whose size was not counted
// first) each gets a heap block of its own, kept in a table beside the records
// rather than in every record's header.
class alignas(16) Record {
 public:
  // A record of `size` layout bytes (zeroed) and `arena` bytes for strings and lists.
  static RecordRef<Record> Make(uint32_t size, uint32_t arena = 0);
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

  const uint8_t* data() const { return bytes(); }
  uint8_t* mutable_data() { return bytes(); }
  // The fixed layout's size (the arena behind it not included).
  uint32_t size() const { return size_; }
  // The layout's and the arena's bytes: the record's own allocation after its header.
  uint32_t capacity() const { return capacity_; }
  // True if some string or list did not fit in the arena (and lives in a block of
  // its own, freed with the record).
  bool overflowed() const { return (used_ & kOverflowed) != 0; }
  // Arena bytes a string of `len` bytes takes (it keeps 8-byte alignment).
  static uint32_t ArenaBytes(size_t len) { return static_cast<uint32_t>((len + 7) & ~size_t{7}); }

  // Copies `s` into this record's storage; the view lives as long as the record.
  JnStr Own(std::string_view s);
  // Copies `count` elements of `elem_size` bytes; strings inside must already be owned.
  JnList OwnList(const void* data, uint32_t count, uint32_t elem_size);

  // Writes `v` (of the field's type) at the field's offset and sets its presence bit
  // (`present_offset`: JN_EVENT_PRESENT_OFFSET or JN_PROFILE_PRESENT_OFFSET). Strings
  // and lists in `v` are copied into this record.
  void SetField(const FieldSpec& field, const JnValue& v, uint32_t present_offset);
  // Reads a field as a value (views into this record).
  JnValue GetField(const FieldSpec& field) const;

 private:
  template <class>
  friend class RecordRef;
  Record(uint32_t size, uint32_t capacity) : size_(size), capacity_(capacity), used_(size) {}
  ~Record() = default;
  // The layout and the arena follow the header (16-byte aligned, as malloc's).
  uint8_t* bytes() const { return reinterpret_cast<uint8_t*>(const_cast<Record*>(this) + 1); }
  void AddRef() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Release() const;
  // Copies `bytes` into the arena if they fit (so the layout and earlier views stay
  // put), else into a blob of their own.
  const void* Store(const void* data, size_t bytes);
  const void* StoreApart(const void* data, size_t bytes);  // Store's rare path

  // used_'s top bit: blobs of this record wait in the overflow table (capacity_ is
  // below 2^31, so used_ never reaches it).
  static constexpr uint32_t kOverflowed = uint32_t{1} << 31;

  mutable std::atomic<uint32_t> refs_{1};
  uint32_t size_;      // the layout's bytes
  uint32_t capacity_;  // the layout's and the arena's
  uint32_t used_;      // of capacity_, and kOverflowed
};
static_assert(sizeof(Record) == 16, "the header before a record's bytes");

template <class T>
void RecordRef<T>::reset() {
  if (p_ != nullptr) std::exchange(p_, nullptr)->Release();
}
template <class T>
void RecordRef<T>::Acquire() {
  if (p_ != nullptr) p_->AddRef();
}

using RecordPtr = RecordRef<const Record>;

enum class MessageKind { kTrack, kIdentify, kIgnored };

// Message::traits marker: "make this optional profile field absent" (not a JN_* type).
inline constexpr uint8_t kTraitAbsent = 0xFF;

// One decoded input message.
struct Message {
  MessageKind kind = MessageKind::kTrack;
  std::string message_id;
  std::string customer;      // userId, else anonymousId
  bool customer_is_anonymous = false;  // `customer` is the anonymousId
  int64_t time_us = 0;       // timestamp; the engine then sets it to the decision time
  int64_t received_us = 0;   // receivedAt, if has_received
  bool has_received = false;
  int64_t timestamp_us = 0;  // the engine: the timestamp (when the signal was captured)
  // kTrack: the event type and its record (header filled: type, time, id, customer).
  uint32_t event_type = 0;
  RecordPtr record;
  // kIdentify: known traits as (profile field index, value); values point into
  // `trait_storage`. A trait sent as JSON null resets the field: to its default (the
  // value is then the default, like any other), or, for an optional field without a
  // default, to absent: a value whose `type` is kTraitAbsent (MergeTraits clears the
  // field and its presence bit). Unknown traits are kept as raw (minified) JSON text.
  std::vector<std::pair<int, JnValue>> traits;
  RecordRef<Record> trait_storage;
  std::vector<std::pair<std::string, std::string>> unknown_traits;
  // kIgnored: a track (or page, screen) of an event the program does not declare:
  // ignored_event is its name; or a group or alias call (accepted, not used):
  // ignored_call is "group" or "alias".
  std::string ignored_event;
  const char* ignored_call = nullptr;

  // Back to a default-constructed message, its strings' and vectors' room kept (a
  // message decoded into the same object each time allocates nothing for them). A
  // field added above must be reset here too (test Decoder.AClearedMessageIsAFreshOne).
  void Clear() {
    kind = MessageKind::kTrack;
    message_id.clear();
    customer.clear();
    customer_is_anonymous = false;
    time_us = 0;
    received_us = 0;
    has_received = false;
    timestamp_us = 0;
    event_type = 0;
    record = {};
    traits.clear();
    trait_storage = {};
    unknown_traits.clear();
    ignored_event.clear();
    ignored_call = nullptr;
  }
};

// Decodes one JSON message (a Segment call: track, identify, page, screen; group and
// alias are accepted as kIgnored). Returns an invalid-argument error whose message is
// the dead-letter reason, one line (e.g. "property 'amount' must be a number, got
// string"), if the message is
// not valid JSON, is not an object of a Segment call, lacks messageId, timestamp, or both
// userId and anonymousId, has an unparseable timestamp, or has a declared property of
// the wrong type or a required property missing. On failure `out` is empty but for
// `customer`, `message_id` and `time_us` (its timestamp), when they could be read
// (explanations tell a refused message to its customer).
Status DecodeMessage(const ProgramSpec& spec, std::string_view json, Message& out);

// A profile with every field at its default (absent for optional fields).
RecordRef<Record> MakeDefaultProfile(const ProgramSpec& spec);

// A new profile: `old` with the traits of an identify message merged in.
RecordRef<Record> MergeTraits(const ProgramSpec& spec, const Record& old,
                                    const Message& identify);

// Parses an ISO-8601 timestamp ("2026-11-22T21:57:10.123Z", "…+02:00") into
// microseconds since the epoch. False if malformed.
bool ParseTimestamp(std::string_view text, int64_t& micros);
// The value of a `time` field or trait: an ISO-8601 timestamp as above, or a date
// alone, "1990-11-02", which is midnight UTC of that day.
bool ParseTimeValue(std::string_view text, int64_t& micros);
// Formats microseconds since the epoch as "2026-11-22T21:57:10.123Z" (milliseconds).
std::string FormatTimestamp(int64_t micros);
// The same, appended to `out` (no allocation once `out` has the room).
void AppendTimestamp(int64_t micros, std::string& out);

// Parses a duration written as in the language and in messages: <digits><unit> groups,
// units w d h m s ("1d12h", "90m", "30d"), at most 2^53 µs. False if malformed or
// larger.
bool ParseDuration(std::string_view text, int64_t& micros);
// Formats a duration in the same units, largest first ("30d", "1d12h", "90s" -> "1m30s");
// a fraction of a second as decimals ("1.5s"); "0s" for zero.
std::string FormatDuration(int64_t micros);

}  // namespace juncture::runtime
