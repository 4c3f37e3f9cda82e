/* A C99 program built with `pkg-config --cflags --libs juncture` (package tests): the
 * version, a compile error with its position, and the decisions of one message. */
#include <stdio.h>
#include <string.h>

#include <juncture.h>

static void count(void* user, const char* json, size_t length) {
  (void)json;
  (void)length;
  ++*(int*)user;
}

int main(void) {
  static const char broken[] = "journey {";
  static const char text[] =
      "event signup { plan: string }\nchannel email { consent true }\n"
      "journey welcome {\n  on signup\n  send email \"welcome\" { plan: event.plan }\n}\n";
  static const char message[] =
      "{\"type\":\"track\",\"event\":\"signup\",\"messageId\":\"s1\",\"userId\":\"bo\","
      "\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":{\"plan\":\"pro\"}}";
  juncture_source bad = {"broken.jny", broken, sizeof broken - 1};
  juncture_source good = {"welcome.jny", text, sizeof text - 1};
  juncture_program* program = NULL;
  juncture_engine* engine = NULL;
  int decisions = 0;
  juncture_callbacks callbacks = {count, NULL, NULL};
  callbacks.user = &decisions;

  printf("libjuncture %s\n", juncture_version());
  if (juncture_compile(&bad, 1, NULL, JUNCTURE_BACKEND_JIT, &program) != JUNCTURE_ERROR_COMPILE)
    return 1;
  printf("%s", juncture_last_error());
  if (juncture_compile(&good, 1, NULL, JUNCTURE_BACKEND_JIT, &program) != JUNCTURE_OK ||
      juncture_engine_new(program, &callbacks, &engine) != JUNCTURE_OK ||
      juncture_engine_process(engine, message, strlen(message)) != JUNCTURE_OK) {
    fprintf(stderr, "%s\n", juncture_last_error());
    return 1;
  }
  juncture_engine_free(engine);
  juncture_program_free(program);
  printf("decisions: %d\n", decisions);
  return 0;
}
