/* The one ABI: where JIT-compiled code, the reference interpreter and the runtime meet.
 *
 * Plain C so that LLVM-generated code can use it without name mangling. Everything an
 * evaluator reads is described here, field by field; a change here is a change to
 * all three sides at once (see docs/abi.md).
 *
 * Record layouts. An event is decoded into one flat record: a JnEventHeader followed
 * by the event type's declared fields, in declaration order, each at its natural
 * alignment (the compiler computes the offsets: compiler/ir/layout.cc). The profile
 * is a record of the same kind without the header: a presence word then the fields.
 *
 *   type            size  align  representation
 *   bool            1     1      0 or 1
 *   int             8     8      int64_t
 *   float           8     8      double
 *   string          16    8      JnStr
 *   time            8     8      int64_t microseconds since 1970-01-01T00:00:00Z
 *   duration        8     8      int64_t microseconds
 *   list<T>         16    8      JnList of T elements (each laid out as above)
 *
 * An optional field (T?) has a presence bit: bit k of `present` is set when the
 * field with presence index k is present. An absent field's bytes are zero. Required
 * fields (with or without a default) are always present after decoding.
 */
#ifndef JUNCTURE_ABI_ABI_H_
#define JUNCTURE_ABI_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A UTF-8 string view. `data` is not NUL-terminated and is owned by the record's
 * arena (valid while the record is). `sym` is the string's id in the program's
 * interned-constant table, or -1 if it equals no constant the program compares with;
 * comparisons against constants compare `sym` only. */
typedef struct JnStr {
  const char* data;
  uint32_t len;
  int32_t sym;
} JnStr;

/* A list view: `len` elements of `elem_size` bytes each, laid out contiguously. */
typedef struct JnList {
  const void* data;
  uint32_t len;
  uint32_t elem_size;
} JnList;

/* The envelope every event record starts with (LANGUAGE.md §2: event.id,
 * event.customer, event.time). */
typedef struct JnEventHeader {
  uint32_t type_id;  /* dense event-type id assigned by the compiler */
  uint32_t flags;    /* reserved, 0 */
  int64_t time_us;   /* event.time */
  JnStr id;          /* event.id: the message's messageId */
  JnStr customer;    /* event.customer: userId, else anonymousId */
  uint64_t present;  /* presence bits of the optional fields */
} JnEventHeader;

/* Fixed offsets, checked by static assertions below. */
#define JN_EVENT_TYPE_ID_OFFSET 0
#define JN_EVENT_TIME_OFFSET 8
#define JN_EVENT_ID_OFFSET 16
#define JN_EVENT_CUSTOMER_OFFSET 32
#define JN_EVENT_PRESENT_OFFSET 48
#define JN_EVENT_FIELDS_OFFSET 56
/* The profile record starts with its presence word. */
#define JN_PROFILE_PRESENT_OFFSET 0
#define JN_PROFILE_FIELDS_OFFSET 8
/* At most this many optional fields per record (one presence word). */
#define JN_MAX_OPTIONAL_FIELDS 64

#ifdef __cplusplus
}  /* extern "C" */
static_assert(sizeof(JnStr) == 16, "JnStr layout");
static_assert(sizeof(JnList) == 16, "JnList layout");
static_assert(sizeof(JnEventHeader) == JN_EVENT_FIELDS_OFFSET, "JnEventHeader layout");
static_assert(__builtin_offsetof(JnEventHeader, time_us) == JN_EVENT_TIME_OFFSET, "time");
static_assert(__builtin_offsetof(JnEventHeader, id) == JN_EVENT_ID_OFFSET, "id");
static_assert(__builtin_offsetof(JnEventHeader, customer) == JN_EVENT_CUSTOMER_OFFSET, "customer");
static_assert(__builtin_offsetof(JnEventHeader, present) == JN_EVENT_PRESENT_OFFSET, "present");
#endif

#endif  /* JUNCTURE_ABI_ABI_H_ */
