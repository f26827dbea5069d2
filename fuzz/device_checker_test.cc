// Replays the fuzz seed corpora and random inputs through the device checker in every build
// (gcc, ASan, TSan), so the invariants run even where libFuzzer does not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "device_checker.h"

namespace zbl::fuzz {
namespace {

void RunInput(const std::vector<uint8_t>& bytes) {
  ByteReader in(bytes.data(), bytes.size());
  auto checker = DeviceChecker::Create(in);
  ASSERT_NE(checker, nullptr);
  while (!in.empty()) checker->Step(in);
  checker->CheckWholeDevice();
}

TEST(DeviceChecker, ReplaysSeedCorpus) {
  const std::filesystem::path dir = std::filesystem::path(ZBL_FUZZ_CORPUS) / "device";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    RunInput(bytes);
    ++n;
  }
  EXPECT_GT(n, 0);
}

// Random request streams in every profile: the same invariants as the fuzz target, without
// coverage guidance. Deterministic seeds, so a failure reproduces.
TEST(DeviceChecker, RandomStreamsKeepInvariants) {
  std::mt19937_64 rng(20261125);
  for (int i = 0; i < 600; ++i) {
    std::vector<uint8_t> bytes(64 + rng() % 1500);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    bytes[0] = static_cast<uint8_t>(i % 3 | (i & 0x80));
    RunInput(bytes);
  }
}

}  // namespace
}  // namespace zbl::fuzz
