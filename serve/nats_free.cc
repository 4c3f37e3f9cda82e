#include "nats_free.h"

#include <dlfcn.h>

#include <cstring>

namespace juncture::serve {

namespace {

using FreeFunction = void (*)(void*);

// NATS.c's own free function for a message, if the library is one whose message
// lifecycle was read and checked: natsMsg_Destroy there frees a message that is not
// marked "no destroy" (only JetStream's internal messages are) by exactly this call,
// on the collector's thread.
FreeFunction FindFreeFunction() {
  const char* version = nats_GetVersion();
  if (version == nullptr || std::strcmp(version, "3.4.1") != 0) return nullptr;
  return reinterpret_cast<FreeFunction>(dlsym(RTLD_DEFAULT, "natsMsg_free"));
}

FreeFunction FreeFunctionOnce() {
  static const FreeFunction f = FindFreeFunction();
  return f;
}

}  // namespace

bool MessagesFreedInPlace() { return FreeFunctionOnce() != nullptr; }

void DestroyMessages(std::span<natsMsg* const> messages) {
  const FreeFunction free_message = FreeFunctionOnce();
  for (natsMsg* m : messages) {
    if (m == nullptr) continue;
    if (free_message != nullptr) {
      free_message(m);
    } else {
      natsMsg_Destroy(m);
    }
  }
}

}  // namespace juncture::serve
