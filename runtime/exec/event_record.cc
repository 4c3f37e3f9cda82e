// Owned records (juncture/runtime/event.h): string and list storage, typed field
// access through FieldSpec, default profiles and the merge of identify traits.
//
// Every write is bounds-checked against the record's size: a FieldSpec that does not
// fit (a spec/record mismatch) is ignored on write and reads as the zero value, so a
// bad layout can never corrupt memory.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "juncture/runtime/event.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

// Storage behind empty strings and lists: never null, suitably aligned.
alignas(16) const uint8_t kEmptyStorage[16] = {};

// The blocks of strings and lists that did not fit in their record's arena, by
// record (Record::overflowed says which records have some). Records live on any
// thread: one lock.
struct OverflowTable {
  std::mutex mu;
  std::unordered_map<const void*, std::vector<std::unique_ptr<char[]>>> blobs;
};
OverflowTable& Overflow() {
  static auto* table = new OverflowTable();  // never destroyed: records may outlive statics
  return *table;
}

bool Fits(uint32_t offset, uint32_t size, uint32_t record_size) {
  return size != 0 && uint64_t{offset} + size <= record_size;
}

// Clears bit `bit` of the presence word at `present_offset`.
void ClearPresent(uint8_t* data, uint32_t size, uint32_t present_offset, int bit) {
  if (bit < 0 || bit >= JN_MAX_OPTIONAL_FIELDS || !Fits(present_offset, 8, size)) return;
  uint64_t word;
  std::memcpy(&word, data + present_offset, sizeof word);
  word &= ~(uint64_t{1} << bit);
  std::memcpy(data + present_offset, &word, sizeof word);
}

// The value a required field without a default holds: zero, empty, sym -1.
JnValue ZeroValue(const FieldSpec& field) {
  JnValue v{};
  v.type = field.type;
  v.elem = field.elem;
  v.s = JnStr{reinterpret_cast<const char*>(kEmptyStorage), 0, -1};
  v.l = JnList{kEmptyStorage, 0, jn_value_size(field.elem)};
  return v;
}

}  // namespace

RecordRef<Record> Record::Make(uint32_t size, uint32_t arena) {
  const size_t capacity = size_t{size} + arena;
  // operator new aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16), as the header needs.
  void* memory = ::operator new(sizeof(Record) + capacity);
  // Usable up to 2^31 - 1 bytes (used_'s top bit is a flag); a record is at most a
  // message's size, which is far below.
  auto* r = new (memory) Record(size, static_cast<uint32_t>(std::min<size_t>(capacity, INT32_MAX)));
  std::memset(r->bytes(), 0, size);
  return RecordRef<Record>(r);
}

void Record::Release() const {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (overflowed()) {  // before its address can be another record's
    OverflowTable& t = Overflow();
    std::lock_guard<std::mutex> lock(t.mu);
    t.blobs.erase(this);
  }
  this->~Record();
  ::operator delete(const_cast<Record*>(this));
}

const void* Record::Store(const void* data, size_t bytes) {
  const uint32_t flag = used_ & kOverflowed;
  size_t at = ArenaBytes(used_ & ~kOverflowed);
  if (at + bytes <= capacity_) [[likely]] {
    used_ = static_cast<uint32_t>(at + bytes) | flag;
    std::memcpy(this->bytes() + at, data, bytes);
    return this->bytes() + at;
  }
  return StoreApart(data, bytes);
}

[[gnu::noinline, gnu::cold]] const void* Record::StoreApart(const void* data, size_t bytes) {
  // operator new[] aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16): enough for any
  // element representation.
  auto blob = std::make_unique_for_overwrite<char[]>(bytes);
  std::memcpy(blob.get(), data, bytes);
  const void* out = blob.get();
  OverflowTable& t = Overflow();
  std::lock_guard<std::mutex> lock(t.mu);
  t.blobs[this].push_back(std::move(blob));
  used_ |= kOverflowed;
  return out;
}

JnStr Record::Own(std::string_view s) {
  if (s.empty()) return JnStr{reinterpret_cast<const char*>(kEmptyStorage), 0, -1};
  size_t len = std::min<size_t>(s.size(), UINT32_MAX);
  return JnStr{static_cast<const char*>(Store(s.data(), len)), static_cast<uint32_t>(len), -1};
}

JnList Record::OwnList(const void* data, uint32_t count, uint32_t elem_size) {
  uint64_t bytes = uint64_t{count} * elem_size;
  if (bytes == 0 || data == nullptr) return JnList{kEmptyStorage, 0, elem_size};
  return JnList{Store(data, bytes), count, elem_size};
}

void Record::SetField(const FieldSpec& field, const JnValue& v, uint32_t present_offset) {
  uint32_t size = this->size();
  if (!Fits(field.offset, jn_value_size(field.type), size)) return;
  RecordWriter w(bytes());
  switch (field.type) {
    case JN_BOOL: w.SetBool(field.offset, v.b != 0); break;
    case JN_INT:
    case JN_TIME:
    case JN_DURATION: w.SetInt(field.offset, v.i); break;
    case JN_FLOAT: w.SetFloat(field.offset, v.f); break;
    case JN_STRING: {
      JnStr s = Own(std::string_view(v.s.data, v.s.data ? v.s.len : 0));
      w.SetStr(field.offset, s);
      break;
    }
    case JN_LIST: {
      uint32_t elem_size = jn_value_size(field.elem);
      uint32_t len = v.l.data != nullptr ? v.l.len : 0;
      // A list of another element layout than the field's: stored empty.
      if (v.l.elem_size != elem_size) len = 0;
      JnList list;
      if (field.elem == JN_STRING && len > 0) {
        std::vector<JnStr> elems(len);
        const auto* src = static_cast<const uint8_t*>(v.l.data);
        for (uint32_t i = 0; i < len; ++i) {
          JnStr s;
          std::memcpy(&s, src + size_t{i} * sizeof(JnStr), sizeof s);
          elems[i] = Own(std::string_view(s.data, s.data ? s.len : 0));
        }
        list = OwnList(elems.data(), len, elem_size);
      } else {
        // Scalars are copied as they are. Nested lists (not produced by the decoder)
        // are copied shallowly: their elements must outlive this record.
        list = OwnList(v.l.data, len, elem_size);
      }
      w.SetList(field.offset, list);
      break;
    }
    default: return;
  }
  if (field.presence_bit >= 0 && Fits(present_offset, 8, size)) {
    w.SetPresent(present_offset, field.presence_bit);
  }
}

JnValue Record::GetField(const FieldSpec& field) const {
  JnValue v{};
  v.type = field.type;
  v.elem = field.elem;
  if (!Fits(field.offset, jn_value_size(field.type), size())) {
    if (field.type == JN_LIST) v.l.elem_size = jn_value_size(field.elem);
    if (field.type == JN_STRING) v.s.sym = -1;
    return v;
  }
  RecordView r(bytes());
  switch (field.type) {
    case JN_BOOL: v.b = r.GetBool(field.offset) ? 1 : 0; break;
    case JN_INT:
    case JN_TIME:
    case JN_DURATION: v.i = r.GetInt(field.offset); break;
    case JN_FLOAT: v.f = r.GetFloat(field.offset); break;
    case JN_STRING: v.s = r.GetStr(field.offset); break;
    case JN_LIST:
      v.l = r.GetList(field.offset);
      if (v.l.len == 0) v.l.elem_size = jn_value_size(field.elem);  // absent: zero bytes
      break;
    default: break;
  }
  return v;
}

RecordRef<Record> MakeDefaultProfile(const ProgramSpec& spec) {
  uint32_t arena = 0;
  for (const FieldSpec& f : spec.profile.fields) {
    if (f.type == JN_STRING && f.has_default) arena += Record::ArenaBytes(f.default_value.s.len);
  }
  auto rec = Record::Make(std::max<uint32_t>(spec.profile.size, JN_PROFILE_FIELDS_OFFSET), arena);
  for (const FieldSpec& f : spec.profile.fields) {
    if (f.has_default) {
      rec->SetField(f, f.default_value, JN_PROFILE_PRESENT_OFFSET);
    } else if (f.presence_bit < 0) {
      // Required without a default: present, with the zero value (strings get sym -1,
      // never the id of constant 0).
      rec->SetField(f, ZeroValue(f), JN_PROFILE_PRESENT_OFFSET);
    }
  }
  return rec;
}

// Arena bytes `v`, a value of field `f`, takes in a record: a string's bytes; a
// list's elements and the bytes of its strings (Record::SetField stores just these).
static uint64_t ArenaOf(const FieldSpec& f, const JnValue& v) {
  if (f.type == JN_STRING) return Record::ArenaBytes(v.s.data != nullptr ? v.s.len : 0);
  const uint32_t elem_size = jn_value_size(f.elem);
  if (f.type != JN_LIST || v.l.data == nullptr || v.l.elem_size != elem_size) return 0;
  uint64_t bytes = Record::ArenaBytes(uint64_t{v.l.len} * elem_size);
  if (f.elem == JN_STRING) {
    for (uint32_t i = 0; i < v.l.len; ++i) {
      JnStr s;
      std::memcpy(&s, static_cast<const uint8_t*>(v.l.data) + size_t{i} * sizeof(JnStr), sizeof s);
      bytes += Record::ArenaBytes(s.data != nullptr ? s.len : 0);
    }
  }
  return bytes;
}

RecordRef<Record> MergeTraits(const ProgramSpec& spec, const Record& old,
                                    const Message& identify) {
  // The fields the traits set (or reset): the old profile's values of these are not
  // copied, so that the new profile's one allocation holds only what it keeps.
  const auto& fields = spec.profile.fields;
  std::vector<bool> set_by_trait(fields.size(), false);
  if (identify.kind == MessageKind::kIdentify) {
    for (const auto& [index, value] : identify.traits) {
      if (index >= 0 && static_cast<size_t>(index) < fields.size()) set_by_trait[index] = true;
    }
  }
  RecordView old_view(old.data());
  // What each field of the old profile carries over: its value, a default, or nothing.
  auto carried = [&](const FieldSpec& f, JnValue* v) {
    if (!Fits(f.offset, jn_value_size(f.type), old.size())) {
      // `old` has another layout: start the field over.
      if (f.has_default) {
        *v = f.default_value;
      } else if (f.presence_bit < 0) {
        *v = ZeroValue(f);
      } else {
        return false;
      }
      return true;
    }
    bool present = f.presence_bit < 0 ||
                   (Fits(JN_PROFILE_PRESENT_OFFSET, 8, old.size()) &&
                    old_view.IsPresent(JN_PROFILE_PRESENT_OFFSET, f.presence_bit));
    if (present) *v = old.GetField(f);
    return present;
  };
  uint64_t arena = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    JnValue v;
    if (!set_by_trait[i] && carried(fields[i], &v)) arena += ArenaOf(fields[i], v);
  }
  if (identify.kind == MessageKind::kIdentify) {
    for (const auto& [index, value] : identify.traits) {
      if (index < 0 || static_cast<size_t>(index) >= fields.size() || value.type == kTraitAbsent) continue;
      arena += ArenaOf(fields[index], value);
    }
  }
  auto rec = Record::Make(std::max<uint32_t>(spec.profile.size, JN_PROFILE_FIELDS_OFFSET),
                          static_cast<uint32_t>(std::min<uint64_t>(arena, uint64_t{1} << 30)));
  for (size_t i = 0; i < fields.size(); ++i) {
    JnValue v;
    if (!set_by_trait[i] && carried(fields[i], &v)) rec->SetField(fields[i], v, JN_PROFILE_PRESENT_OFFSET);
  }
  if (identify.kind != MessageKind::kIdentify) return rec;
  for (const auto& [index, value] : identify.traits) {
    if (index < 0 || static_cast<size_t>(index) >= spec.profile.fields.size()) continue;
    const FieldSpec& f = spec.profile.fields[index];
    if (value.type == kTraitAbsent) {
      uint32_t n = jn_value_size(f.type);
      if (Fits(f.offset, n, rec->size())) std::memset(rec->mutable_data() + f.offset, 0, n);
      ClearPresent(rec->mutable_data(), rec->size(), JN_PROFILE_PRESENT_OFFSET, f.presence_bit);
      continue;
    }
    rec->SetField(f, value, JN_PROFILE_PRESENT_OFFSET);
  }
  return rec;
}

}  // namespace juncture::runtime
