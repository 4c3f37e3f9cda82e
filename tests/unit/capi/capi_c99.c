/* Compiled as strict C99 (tests/unit/CMakeLists.txt): juncture.h is a C header, and a C
 * program can compile a journey, run an engine and count its decisions. */
#include <string.h>

#include "juncture.h"

static void count_decision(void* user, const char* json, size_t length) {
  (void)json;
  (void)length;
  ++*(int*)user;
}

/* The number of decisions for one track message, or -1 if a call failed. */
int capi_c99_decisions(void) {
  static const char text[] =
      "event signup { plan: string }\n"
      "channel email { consent true }\n"
      "journey welcome {\n  on signup\n  send email \"welcome\" { plan: event.plan }\n}\n";
  static const char message[] =
      "{\"type\":\"track\",\"event\":\"signup\",\"messageId\":\"s1\",\"userId\":\"bo\","
      "\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":{\"plan\":\"pro\"}}";
  juncture_source source = {"welcome.jny", text, sizeof text - 1};
  juncture_program* program = NULL;
  juncture_engine* engine = NULL;
  juncture_callbacks callbacks = {count_decision, NULL, NULL};
  int decisions = 0;
  int ok;
  callbacks.user = &decisions;
  if (juncture_compile(&source, 1, NULL, JUNCTURE_BACKEND_INTERPRETER, &program) != JUNCTURE_OK)
    return -1;
  ok = juncture_engine_new(program, &callbacks, &engine) == JUNCTURE_OK &&
       juncture_engine_process(engine, message, strlen(message)) == JUNCTURE_OK;
  juncture_engine_free(engine);
  juncture_program_free(program);
  return ok ? decisions : -1;
}
