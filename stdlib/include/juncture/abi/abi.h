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
 * arena (valid while the record is). `sym` is reserved for an id in a table of the
 * program's string constants; today it is always -1 and every comparison compares
 * the bytes (docs/abi.md). */
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

/* The envelope every event record starts with (docs/language.md: event.id,
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

/* ---- Evaluation ------------------------------------------------------------------
 * A back end evaluates the program's expressions against a JnContext. Values cross
 * the seam as JnValue. Both back ends call the stdlib through the same entry points
 * (jn_lower, …: one uniform signature, JnStdlibFn). */

/* Value types (the IR's types). */
enum {
  JN_BOOL = 0,
  JN_INT = 1,
  JN_FLOAT = 2,
  JN_STRING = 3,
  JN_TIME = 4,
  JN_DURATION = 5,
  JN_LIST = 6
};

/* Bytes a value of `type` takes in a record, or as a list element (0: not a type). */
static inline uint32_t jn_value_size(uint8_t type) {
  switch (type) {
    case JN_BOOL: return 1;
    case JN_INT:
    case JN_FLOAT:
    case JN_TIME:
    case JN_DURATION: return 8;
    case JN_STRING: return sizeof(JnStr);
    case JN_LIST: return sizeof(JnList);
    default: return 0;
  }
}

/* A value: `type` says which member is meaningful (b, i for int/time/duration, f,
 * s, l). For lists, `elem` is the element type and `l.elem_size` its size. */
typedef struct JnValue {
  uint8_t type;
  uint8_t elem;
  uint8_t b;
  uint8_t reserved[5];
  int64_t i;
  double f;
  JnStr s;
  JnList l;
} JnValue;

struct JnContext;

/* The runtime's callback for a window's value at the decision time. */
typedef JnValue (*JnWindowFn)(void* host, uint32_t slot);
/* Copies `len` bytes into memory that lives as long as the current decision. */
typedef const char* (*JnAllocFn)(void* host, const char* data, uint32_t len);

/* Everything an evaluator may read while deciding for one customer. */
typedef struct JnContext {
  const uint8_t* event;    /* the record `event` is bound to, or NULL */
  const uint8_t* profile;  /* the customer's profile record */
  int64_t now_us;          /* the decision time */
  JnStr customer;          /* the customer being decided */
  void* host;              /* the runtime's per-decision state (opaque) */
  JnWindowFn window;       /* window values */
  JnAllocFn alloc;         /* string results (lower, upper, +) */
  uint64_t div_by_zero;    /* incremented on every division or modulo by zero */
} JnContext;

/* The uniform signature of every stdlib entry point: `args` holds the arguments in
 * declaration order, implicit ones (now, customer) first. Never fails: bad input
 * yields a neutral value (an empty string, 0). */
typedef JnValue (*JnStdlibFn)(JnContext* ctx, const JnValue* args, uint32_t nargs);

#ifdef __cplusplus
}  /* extern "C" */
static_assert(sizeof(JnValue) == 56, "JnValue layout");
static_assert(sizeof(JnStr) == 16, "JnStr layout");
static_assert(sizeof(JnList) == 16, "JnList layout");
static_assert(sizeof(JnEventHeader) == JN_EVENT_FIELDS_OFFSET, "JnEventHeader layout");
static_assert(__builtin_offsetof(JnEventHeader, time_us) == JN_EVENT_TIME_OFFSET, "time");
static_assert(__builtin_offsetof(JnEventHeader, id) == JN_EVENT_ID_OFFSET, "id");
static_assert(__builtin_offsetof(JnEventHeader, customer) == JN_EVENT_CUSTOMER_OFFSET, "customer");
static_assert(__builtin_offsetof(JnEventHeader, present) == JN_EVENT_PRESENT_OFFSET, "present");
#endif

#endif  /* JUNCTURE_ABI_ABI_H_ */
