#include "nats_handles.h"

namespace juncture::serve {

std::string NatsErrorText(natsStatus s) {
  std::string out = natsStatus_GetText(s);
  // NATS.c keeps the last error text per thread and never clears it: a text left by
  // an earlier call would describe another failure. Use it only if it carries the
  // status this call returned.
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == s && out != last) {
    out += std::string(": ") + last;
  }
  return out;
}

}  // namespace juncture::serve
