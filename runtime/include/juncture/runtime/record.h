// Typed access to a decoded record (an event or the profile) laid out as described in
// juncture/abi/abi.h. The decoder writes through RecordWriter; the interpreter and
// the runtime read through RecordView. Neither owns the bytes; strings point into an
// arena owned by whoever owns the record. Not thread-safe for concurrent writes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "juncture/abi/abi.h"

namespace juncture::runtime {

class RecordView {
 public:
  explicit RecordView(const uint8_t* data) : data_(data) {}

  bool GetBool(uint32_t offset) const { return data_[offset] != 0; }
  int64_t GetInt(uint32_t offset) const { return Load<int64_t>(offset); }
  double GetFloat(uint32_t offset) const { return Load<double>(offset); }
  JnStr GetStr(uint32_t offset) const { return Load<JnStr>(offset); }
  std::string_view GetString(uint32_t offset) const {
    JnStr s = GetStr(offset);
    return {s.data, s.len};
  }
  JnList GetList(uint32_t offset) const { return Load<JnList>(offset); }

  // Presence bit `bit` of the word at `present_offset` (JN_EVENT_PRESENT_OFFSET for
  // events, JN_PROFILE_PRESENT_OFFSET for the profile).
  bool IsPresent(uint32_t present_offset, int bit) const {
    return bit < 0 || ((Load<uint64_t>(present_offset) >> bit) & 1) != 0;
  }

  const JnEventHeader& header() const { return *reinterpret_cast<const JnEventHeader*>(data_); }

 private:
  template <typename T>
  T Load(uint32_t offset) const {
    T v;
    std::memcpy(&v, data_ + offset, sizeof v);
    return v;
  }
  const uint8_t* data_;
};

class RecordWriter {
 public:
  explicit RecordWriter(uint8_t* data) : data_(data) {}

  void SetBool(uint32_t offset, bool v) { data_[offset] = v ? 1 : 0; }
  void SetInt(uint32_t offset, int64_t v) { Store(offset, v); }
  void SetFloat(uint32_t offset, double v) { Store(offset, v); }
  void SetStr(uint32_t offset, JnStr v) { Store(offset, v); }
  void SetList(uint32_t offset, JnList v) { Store(offset, v); }
  void SetPresent(uint32_t present_offset, int bit);

 private:
  template <typename T>
  void Store(uint32_t offset, const T& v) {
    std::memcpy(data_ + offset, &v, sizeof v);
  }
  uint8_t* data_;
};

}  // namespace juncture::runtime
