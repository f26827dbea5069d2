// Replays the options seed corpus (and the inputs the fuzzer once broke) through the same checks
// as fuzz/options_fuzz, in every build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "options_check.h"
#include "zbl/options.h"

namespace zbl::fuzz {
namespace {

TEST(OptionsCheck, ReplaysSeedCorpus) {
  const std::filesystem::path dir = std::filesystem::path(ZBL_FUZZ_CORPUS) / "options";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    CheckOptionString(text);
    ++n;
  }
  EXPECT_GT(n, 10);
}

// A key cannot hold a comma: a key starting with one would print back ambiguously.
TEST(OptionsCheck, KeysWithCommasAreRefused) {
  for (const char* text : {",,x=1,driver=emulated", "driver=emulated,a,,b=1"}) {
    auto o = Options::Parse(text);
    ASSERT_FALSE(o.ok()) << text;
    EXPECT_EQ(o.status().code(), EINVAL);
    EXPECT_NE(o.status().message().find("comma"), std::string::npos) << o.status().ToString();
  }
  auto v = Options::Parse("driver=emulated,filename=a,,b");  // in values a comma is fine
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v->GetString("filename", ""), "a,b");
}

// A fraction too small for a double is a value, not an exception.
TEST(OptionsCheck, TinyFractionsDoNotThrow) {
  const std::string text = "1." + std::string(400, '0') + "1M";
  auto v = ParseSize(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, uint64_t{1} << 20);
}

}  // namespace
}  // namespace zbl::fuzz
