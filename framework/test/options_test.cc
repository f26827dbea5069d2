#include "zbl/options.h"

#include <gtest/gtest.h>

#include "zbl/backend.h"

namespace zbl {
namespace {

TEST(ParseSize, AcceptsQemuForms) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("4k"), 4096u);
  EXPECT_EQ(*ParseSize("4K"), 4096u);
  EXPECT_EQ(*ParseSize("64M"), uint64_t{64} << 20);
  EXPECT_EQ(*ParseSize("1G"), uint64_t{1} << 30);
  EXPECT_EQ(*ParseSize("2T"), uint64_t{2} << 40);
  EXPECT_EQ(*ParseSize("1.5M"), uint64_t{3} << 19);
  EXPECT_EQ(*ParseSize("0x1000"), 0x1000u);
  EXPECT_EQ(*ParseSize("512b"), 512u);
}

TEST(ParseSize, RejectsGarbage) {
  for (const char* bad : {"", "x", "12x", "4kk", "0xZZ", "1.5", "-1", "18446744073709551616",
                          "20000000E"}) {
    auto r = ParseSize(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == EINVAL || r.status().code() == ERANGE) << bad;
    }
  }
}

TEST(Options, DottedKeysBuildChildren) {
  auto o = Options::Parse("driver=raw,file.driver=emulated,file.model=hm,file.file.filename=a");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(*o->GetString("driver", ""), "raw");
  ASSERT_TRUE(o->HasChild("file"));
  EXPECT_EQ(*o->Child("file")->GetString("model", ""), "hm");
  EXPECT_EQ(*o->Child("file")->Child("file")->GetString("filename", ""), "a");
}

TEST(Options, DoubleCommaIsALiteralComma) {
  auto o = Options::Parse("driver=file,filename=a,,b.img");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o->GetString("filename", ""), "a,b.img");
  EXPECT_NE(o->ToString().find("filename=a,,b.img"), std::string::npos);
}

TEST(Options, RoundTripsThroughToString) {
  auto o = Options::Parse("file.model=ha,driver=raw,file.driver=emulated");
  ASSERT_TRUE(o.ok());
  auto again = Options::Parse(o->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToString(), o->ToString());
  EXPECT_EQ(o->ToString().rfind("driver=raw", 0), 0u);
}

TEST(Options, MalformedStringsAreRejected) {
  for (const char* bad : {"", "driver", "=x", ",driver=raw", "a..b=1", "driver=a,driver=b",
                          "file.=x", ".x=1"}) {
    auto o = Options::Parse(bad);
    EXPECT_FALSE(o.ok()) << bad;
    if (!o.ok()) {
      EXPECT_EQ(o.status().code(), EINVAL) << bad;
    }
  }
}

struct OpenError {
  const char* options;
  int err;
  const char* must_mention[2];
};

class OpenErrors : public ::testing::TestWithParam<OpenError> {};

TEST_P(OpenErrors, NameTheProblem) {
  const OpenError& c = GetParam();
  auto b = Backend::Open(c.options);
  ASSERT_FALSE(b.ok()) << c.options;
  EXPECT_EQ(b.status().code(), c.err) << b.status().ToString();
  for (const char* m : c.must_mention)
    if (m) {
      EXPECT_NE(b.status().message().find(m), std::string::npos) << b.status().ToString();
    }
}

INSTANTIATE_TEST_SUITE_P(
    Framework, OpenErrors,
    ::testing::Values(
        OpenError{"driver=nosuch", EINVAL, {"unknown driver", "nosuch"}},
        OpenError{"model=hm", EINVAL, {"driver=", nullptr}},
        OpenError{"driver=emulated,bogus=1", EINVAL, {"unknown option 'bogus'", "emulated"}},
        OpenError{"driver=emulated,size=12x", EINVAL, {"'size'", "emulated"}},
        OpenError{"driver=emulated,model=zz", EINVAL, {"'model'", "hm|ha|none"}},
        OpenError{"driver=emulated,max-open-zones=abc", EINVAL, {"max-open-zones", "abc"}},
        OpenError{"driver=emulated,block-size=1024", EINVAL, {"block-size", nullptr}},
        OpenError{"driver=emulated,zone-capacity=128M", EINVAL, {"zone-capacity", nullptr}},
        OpenError{"driver=emulated,read-only-zones=99", EINVAL, {"read-only-zones", "99"}},
        OpenError{"driver=emulated,max-open-zones=4,max-active-zones=2", EINVAL,
                  {"max-open-zones", nullptr}},
        OpenError{"driver=emulated,profile=zbc,max-active-zones=2", EINVAL, {"zbc", nullptr}},
        OpenError{"driver=emulated,foo.driver=emulated", EINVAL, {"foo", nullptr}},
        OpenError{"driver=emulated,profile=nvme", EINVAL, {"profile", "null_blk|zns|zbc"}}));

}  // namespace
}  // namespace zbl
