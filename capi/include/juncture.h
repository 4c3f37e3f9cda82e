/* juncture.h: the C API of the Juncture journey engine (libjuncture.so).
 *
 *   juncture_source src = {"shop.jny", text, strlen(text)};
 *   juncture_program* program;
 *   if (juncture_compile(&src, 1, NULL, JUNCTURE_BACKEND_JIT, &program) != JUNCTURE_OK)
 *     fprintf(stderr, "%s", juncture_last_error());   // file:line:col: error: ...
 *   juncture_callbacks cb = {on_decision, on_dead_letter, my_state};
 *   juncture_engine* engine;
 *   juncture_engine_new(program, &cb, &engine);
 *   juncture_engine_process(engine, json, json_length);  // decisions reach on_decision
 *   juncture_engine_free(engine);
 *   juncture_program_free(program);
 *
 * C99; no C++ type crosses it, and no C++ exception leaves it. Every function that can
 * fail returns a juncture_status; the text of the failure is juncture_last_error().
 * docs/embedding.md is the reference; docs/wire.md describes messages and decisions.
 */
#ifndef JUNCTURE_H
#define JUNCTURE_H

#include <stddef.h>
#include <stdint.h>

#if defined(JUNCTURE_C_BUILDING)
#define JUNCTURE_API __attribute__((visibility("default")))
#else
#define JUNCTURE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum juncture_status {
  JUNCTURE_OK = 0,
  JUNCTURE_ERROR_ARGUMENT = 1, /* a NULL handle or pointer, or a value out of range */
  JUNCTURE_ERROR_COMPILE = 2,  /* the sources have errors (file:line:col: error: ...) */
  JUNCTURE_ERROR_BACKEND = 3,  /* the JIT could not compile a checked program */
  JUNCTURE_ERROR_BUSY = 4,     /* an engine was called from one of its own callbacks */
  JUNCTURE_ERROR_INTERNAL = 5  /* anything else (out of memory, a bug); see the text */
} juncture_status;

typedef enum juncture_backend {
  JUNCTURE_BACKEND_JIT = 0,        /* expressions compiled to native code (LLVM ORC) */
  JUNCTURE_BACKEND_INTERPRETER = 1 /* the reference interpreter: no JIT start-up cost */
} juncture_backend;

/* One source file of a program: its name (used in diagnostics) and its text, which
 * need not end with a NUL. A program is one or more files compiled together. */
typedef struct juncture_source {
  const char* name;
  const char* text;
  size_t length;
} juncture_source;

/* Opaque handles. A program is immutable and may be shared by several engines, even on
 * several threads; an engine is driven by one thread at a time. */
typedef struct juncture_program juncture_program;
typedef struct juncture_engine juncture_engine;

/* One decision as a JSON object on one line, without a newline (docs/wire.md). `json`
 * is NUL-terminated as well, and valid only during the call. */
typedef void (*juncture_decision_fn)(void* user, const char* json, size_t length);
/* A message the engine could not use: its exact bytes (not NUL-terminated) and the
 * reason (NUL-terminated, e.g. "invalid JSON"). Valid only during the call. */
typedef void (*juncture_dead_letter_fn)(void* user, const char* message, size_t length,
                                        const char* reason);

/* Where an engine's output goes. Either function may be NULL (that output is dropped).
 * A callback must not call back into the same engine (JUNCTURE_ERROR_BUSY). */
typedef struct juncture_callbacks {
  juncture_decision_fn on_decision;
  juncture_dead_letter_fn on_dead_letter;
  void* user; /* passed to both, untouched */
} juncture_callbacks;

/* The library's version, "MAJOR.MINOR.PATCH". */
JUNCTURE_API const char* juncture_version(void);

/* Why the last call on this thread that returned something other than JUNCTURE_OK
 * failed ("" if none did). Valid until the next failing call on the same thread. */
JUNCTURE_API const char* juncture_last_error(void);

/* Compiles `count` sources as one program. `approvals_json` is the approvals ledger's
 * text (docs/approvals.md), or NULL for none: journeys that need approval then have
 * their sends suppressed as "unapproved". On JUNCTURE_ERROR_COMPILE,
 * juncture_last_error() holds every error, GCC style (file:line:col: error: ...). */
JUNCTURE_API juncture_status juncture_compile(const juncture_source* sources, size_t count,
                                              const char* approvals_json,
                                              juncture_backend backend,
                                              juncture_program** out_program);
/* NULL is allowed. Engines made from the program keep what they need of it. */
JUNCTURE_API void juncture_program_free(juncture_program* program);

/* A new engine for `program`, with no customers yet. `callbacks` is copied; NULL means
 * no output. */
JUNCTURE_API juncture_status juncture_engine_new(const juncture_program* program,
                                                 const juncture_callbacks* callbacks,
                                                 juncture_engine** out_engine);
/* NULL is allowed. Called from the engine's own callback, it frees the engine when the
 * call that made the callback returns (later callbacks of that call still come). */
JUNCTURE_API void juncture_engine_free(juncture_engine* engine);

/* Decides on one message (a Segment track or identify as JSON bytes), in virtual
 * time: timers due by the message's timestamp fire first. A message that cannot be
 * used goes to on_dead_letter and the call still returns JUNCTURE_OK. */
JUNCTURE_API juncture_status juncture_engine_process(juncture_engine* engine,
                                                     const char* json, size_t length);
/* The same on an outside clock: the message is decided at `time_us` (microseconds
 * since the Unix epoch, e.g. its receipt time), not at its own timestamp. */
JUNCTURE_API juncture_status juncture_engine_process_at(juncture_engine* engine,
                                                        const char* json, size_t length,
                                                        int64_t time_us);
/* Fires every timer (waits, deferred sends) due at or before `time_us`. */
JUNCTURE_API juncture_status juncture_engine_advance_to(juncture_engine* engine,
                                                        int64_t time_us);
/* The engine's time (the latest message or advance), µs since the epoch; 0 before any,
 * and 0 for NULL. */
JUNCTURE_API int64_t juncture_engine_now(const juncture_engine* engine);
/* When the next timer is due (µs since the epoch), INT64_MAX if none or for NULL. */
JUNCTURE_API int64_t juncture_engine_next_timer(const juncture_engine* engine);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JUNCTURE_H */
