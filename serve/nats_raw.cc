#include "nats_raw.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

namespace juncture::serve {

namespace {

// natsMsg_create(msg, subject, subjLen, reply, replyLen, buf, bufLen, hdrLen): `buf`
// holds the header bytes (hdrLen of them) followed by the data.
using CreateFunction = natsStatus (*)(natsMsg**, const char*, int, const char*, int, const char*,
                                      int, int);

// NATS.c's own maker of a received message, if the library is one whose message
// layout was read and checked (3.4.1: the header bytes are kept as given and marked
// "to be parsed when read", exactly as for a message read from the socket).
CreateFunction FindCreateFunction() {
  const char* version = nats_GetVersion();
  if (version == nullptr || std::strcmp(version, "3.4.1") != 0) return nullptr;
  return reinterpret_cast<CreateFunction>(dlsym(RTLD_DEFAULT, "natsMsg_create"));
}

CreateFunction CreateFunctionOnce() {
  static const CreateFunction f = FindCreateFunction();
  return f;
}

constexpr std::string_view kHeaderLine = "NATS/1.0\r\n";

}  // namespace

bool MessagesMadeInOneBlock() { return CreateFunctionOnce() != nullptr; }

natsStatus CreateMessageWithHeader(natsMsg** out, const char* subject, const char* reply,
                                   std::string_view name, std::string_view value,
                                   std::string_view data) {
  *out = nullptr;
  const CreateFunction create = CreateFunctionOnce();
  if (create == nullptr) {
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, subject, reply, data.data(), static_cast<int>(data.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(m, std::string(name).c_str(), std::string(value).c_str());
    if (s != NATS_OK) {
      natsMsg_Destroy(m);
      return s;
    }
    *out = m;
    return NATS_OK;
  }
  // The bytes NATS.c would have read: the header block, then the data.
  thread_local std::string buf;
  buf.assign(kHeaderLine);
  buf.append(name).append(": ").append(value).append("\r\n\r\n");
  const size_t header_len = buf.size();
  buf.append(data);
  return create(out, subject, static_cast<int>(std::strlen(subject)), reply,
                reply == nullptr ? 0 : static_cast<int>(std::strlen(reply)), buf.data(),
                static_cast<int>(buf.size()), static_cast<int>(header_len));
}

}  // namespace juncture::serve
