// serve/state_writer.h: a checkpoint's changes written on a thread of the store's own.
// A write's result is taken once it is done; should it fail (a full disk) after
// customers left memory with their changes taken, reading a customer back is refused
// until a write succeeds, rather than giving the piece from before those changes.
#include "state_writer.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "../engine/engine_test_util.h"
#include "../status_matchers.h"

namespace juncture::enginetest {
namespace {

namespace fs = std::filesystem;

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

class Tmpfs {
 public:
  Tmpfs() {
    std::string tmpl = (fs::temp_directory_path() / "juncture-writer-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=4m") == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  std::string path_, why_;
  bool mounted_ = false;
};

TEST(StateWriter, AfterAFailedWriteACustomerThatLeftMemoryIsNotReadBackUntilAWriteSucceeds) {
  Tmpfs tmpfs;
  if (!tmpfs.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): " << tmpfs.why();
  }
  Result<std::unique_ptr<store::StateStore>> opened =
      store::StateStore::Open(tmpfs.path() + "/s", {});
  ASSERT_OK(opened);
  store::StateStore& store = **opened;
  serve::StateWriter writer(store);
  runtime::Engine e(Compile(std::string(kBase) +
                            "channel email { consent true }\n"
                            "journey j { on cart reenter always wait 1h send email \"later\" }\n"));
  e.UseSource(&writer, 1);
  e.TrackChanges(true);
  Collector sink;
  auto carts = [&](int round) {
    for (int c = 0; c < 5; ++c) {
      const std::string id = "r" + std::to_string(round) + "c" + std::to_string(c);
      e.Process(TrackJson("c" + std::to_string(c), "cart", At(round * kSecond + c), R"({"value":1})",
                          id),
                sink);
    }
  };
  carts(0);
  ASSERT_OK(store.Commit(e, "5", true));
  std::string before;
  Result<bool> found = writer.Find("c1", &before);
  ASSERT_OK(found);
  ASSERT_TRUE(*found);

  // A full disk; more changes; taken, the customers leave memory, the write fails.
  {
    std::ofstream filler(tmpfs.path() + "/filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  for (int round = 1; round < 60; ++round) carts(round);
  runtime::StateChanges changes;
  e.TakeChanges(changes, runtime::PieceForm::kDelta);
  ASSERT_GT(e.Evict(1), 0u);
  writer.EvictedBeforeWritten();
  writer.Start(std::move(changes), "300", nullptr);
  Status written = writer.Wait();
  ASSERT_FALSE(written.ok()) << "the disk is full";
  EXPECT_TRUE(store.has_unwritten());
  std::string piece;
  Result<bool> refused = writer.Find("c1", &piece);
  ASSERT_FALSE(refused.ok()) << "the stored piece is from before the changes that failed";
  EXPECT_NE(refused.status().message().find("cannot be read back"), std::string::npos)
      << refused.status().message();

  // Room again: the next write writes what was kept, and the customer reads back as
  // it is now.
  fs::remove(tmpfs.path() + "/filler");
  Status again = InternalError("not tried");
  for (int i = 0; i < 50 && !again.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the store retries at most every 200 ms
    writer.Start(runtime::StateChanges{}, "300", nullptr);
    again = writer.Wait();
  }
  ASSERT_OK(again);
  EXPECT_FALSE(store.has_unwritten());
  found = writer.Find("c1", &piece);
  ASSERT_OK(found);
  ASSERT_TRUE(*found);
  EXPECT_NE(piece, before) << "the piece holds the changes written since";
}

}  // namespace
}  // namespace juncture::enginetest
