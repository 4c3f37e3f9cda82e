// The CBOR writer of the state pieces (runtime/exec/cbor_writer.h) against an
// independent encoder (nlohmann::json's, RFC 8949): the same bytes for every head
// size, and doubles that read back as themselves.
#include "exec/cbor_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace juncture::runtime::snapshot {
namespace {

using json = nlohmann::json;

std::string Cbor(const json& j) {
  std::vector<std::uint8_t> bytes = json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

TEST(CborWriter, IntegersAtEveryHeadSizeAreWhatAnotherEncoderWrites) {
  const std::vector<uint64_t> unsigned_values = {
      0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffULL, 0x100000000ULL,
      std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : unsigned_values) {
    std::string out;
    CborWriter(out).Uint(v);
    EXPECT_EQ(out, Cbor(json(v))) << v;
  }
  const std::vector<int64_t> signed_values = {
      0, 23, 24, -1, -24, -25, -256, -257, -65536, -65537, -4294967296LL, -4294967297LL,
      1'764'800'000'000'000LL, std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max()};
  for (int64_t v : signed_values) {
    std::string out;
    CborWriter(out).Int(v);
    EXPECT_EQ(out, Cbor(json(v))) << v;
  }
}

TEST(CborWriter, TextAndBytesOfEveryHeadSizeAreWhatAnotherEncoderWrites) {
  for (size_t n : {0, 1, 23, 24, 255, 256, 65535, 65536}) {
    const std::string s(n, 'x');
    std::string text, bytes;
    CborWriter(text).Text(s);
    CborWriter(bytes).Bytes(s);
    EXPECT_EQ(text, Cbor(json(s))) << n;
    EXPECT_EQ(bytes, Cbor(json::binary(std::vector<std::uint8_t>(s.begin(), s.end())))) << n;
  }
}

TEST(CborWriter, ContainersAndDoublesReadBack) {
  const std::vector<double> doubles = {0.0, -0.0, 1.5, -2.25, 0.1, 1e300, -1e-300,
                                       std::numeric_limits<double>::infinity()};
  std::string out;
  CborWriter w(out);
  w.Map(2);
  w.Text("doubles");
  w.Array(doubles.size());
  for (double d : doubles) w.Double(d);
  w.Text("flags");
  w.Array(3);
  w.Bool(true);
  w.Bool(false);
  w.Null();
  const json back = json::from_cbor(out);
  ASSERT_EQ(back["doubles"].size(), doubles.size());
  for (size_t i = 0; i < doubles.size(); ++i) {
    const double d = back["doubles"][i].get<double>();
    EXPECT_EQ(d, doubles[i]) << i;
    EXPECT_EQ(std::signbit(d), std::signbit(doubles[i])) << i;
  }
  EXPECT_EQ(back["flags"], json::parse("[true, false, null]"));
  // Every double is written whole: 0xfb and 8 bytes, big-endian.
  std::string one;
  CborWriter(one).Double(1.5);
  EXPECT_EQ(one, std::string("\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9));
}

}  // namespace
}  // namespace juncture::runtime::snapshot
