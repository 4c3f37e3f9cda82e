#include "fetch.h"

namespace juncture::serve {

natsStatus FetchBatch(natsSubscription* sub, int batch, int64_t wait_ms, natsMsgList* list,
                      jsErrCode* code) {
  int waiting = 0;
  natsSubscription_GetPending(sub, &waiting, nullptr);
  return natsSubscription_Fetch(list, sub, waiting > 0 ? 1 : batch, wait_ms, code);
}

}  // namespace juncture::serve
