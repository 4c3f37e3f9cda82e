// gzip through zlib (inflate with gzip headers only), bounded.
#include "ingest/body.h"

#include <zlib.h>

namespace juncture::ingest {

bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

Status Gunzip(std::string_view compressed, size_t limit, std::string& out) {
  out.clear();
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {  // 16: gzip wrapper only
    return InternalError("cannot uncompress the body");
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  char chunk[16384];
  int status = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    status = inflate(&z, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) break;
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > limit) break;
    if (status == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows
    } else if (z.avail_in == 0 && z.avail_out != 0) {
      status = Z_BUF_ERROR;  // the input ended inside the stream
      break;
    }
  }
  inflateEnd(&z);
  if (out.size() > limit) {
    return InvalidArgumentError("request is larger than " + std::to_string(limit / 1024) +
                                " KB once uncompressed");
  }
  if (status != Z_STREAM_END) {
    return InvalidArgumentError("the body is not valid gzip");
  }
  return OkStatus();
}

}  // namespace juncture::ingest
