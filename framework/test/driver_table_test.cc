// The declared driver table: the framework refuses undeclared keys and out-of-range values
// before a driver opens, lists every driver's options, and the README's driver table names only
// drivers and options that are declared (and every driver).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "zbl/backend.h"
#include "zbl/driver.h"

namespace zbl {
namespace {

TEST(DriverTable, UndeclaredKeysAndOutOfRangeValuesAreRefusedNamingThem) {
  auto b = Backend::Open("driver=emulated,size=16M,zone-size=1M,zone-sise=2M");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), EINVAL);
  EXPECT_NE(b.status().message().find("unknown option 'zone-sise'"), std::string::npos)
      << b.status().ToString();
  EXPECT_NE(b.status().message().find("zone-size"), std::string::npos) << "lists the known keys";
  auto r = Backend::Open("driver=emulated,size=16M,zone-size=1M,max-open-zones=5000000000");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of range 0..4294967295 zones"), std::string::npos)
      << r.status().ToString();
  auto c = Backend::Open("driver=emulated,size=16M,zone-size=1M,model=zz");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("expected one of hm|ha|none"), std::string::npos)
      << c.status().ToString();
  auto d = Backend::Open("driver=null_blk,backend=user,zone_nr_conv=4294967296");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("'zone_nr_conv'"), std::string::npos) << d.status().ToString();
}

TEST(DriverTable, DeclaredDefaultsAreValidValues) {
  for (const DriverSpec* d : BuiltinDrivers())
    for (const OptionSpec& o : d->options) {
      EXPECT_FALSE(o.help.empty()) << d->name << " " << o.name;
      if (!o.default_value.empty()) {
        EXPECT_TRUE(CheckOptionValue(o, o.default_value, d->name).ok()) << d->name << " " << o.name;
      }
    }
}

TEST(DriverTable, ListNamesEveryDriverAndOption) {
  const std::string list = FormatDriverList();
  for (const DriverSpec* d : BuiltinDrivers()) {
    EXPECT_NE(list.find(std::string(d->name) + ": "), std::string::npos) << d->name;
    for (const OptionSpec& o : d->options)
      EXPECT_NE(list.find("  " + std::string(o.name) + " "), std::string::npos) << o.name;
  }
}

// README.md "Drivers": one row per driver (or drivers); every backticked word of a row is one of
// its drivers, a declared option of them (`name` or `name=values`), or a value of the row's
// previous option; every built-in driver has a row.
TEST(DriverTable, ReadmeTableMatchesTheDeclarations) {
  std::ifstream in(ZBL_SOURCE_DIR "/README.md");
  ASSERT_TRUE(in) << "README.md not found under " << ZBL_SOURCE_DIR;
  std::string line;
  bool in_table = false;
  std::set<std::string> rows;
  const std::regex code("`([^`]*)`");
  while (std::getline(in, line)) {
    if (line.rfind("### Drivers", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("#", 0) == 0) break;
    if (line.rfind("| `", 0) != 0) continue;
    const size_t cell = line.find(" | ", 2);
    ASSERT_NE(cell, std::string::npos) << line;
    std::vector<const DriverSpec*> drivers;
    const std::string head = line.substr(0, cell), rest = line.substr(cell);
    for (std::sregex_iterator it(head.begin(), head.end(), code), end; it != end; ++it) {
      const DriverSpec* d = FindDriver((*it)[1].str());
      ASSERT_NE(d, nullptr) << "README names an unknown driver: " << (*it)[1];
      drivers.push_back(d);
      rows.insert(std::string(d->name));
    }
    for (std::sregex_iterator it(rest.begin(), rest.end(), code), end; it != end; ++it) {
      std::string word = (*it)[1].str();
      const std::string key = word.substr(0, word.find('='));
      bool known = FindDriver(key) != nullptr;
      for (const DriverSpec* d : drivers) {
        if (FindOption(*d, key)) known = true;
        // A dotted example (inject-error.N.event=write,...) names a grouped option.
        if (FindOption(*d, std::regex_replace(key, std::regex("\\.[0-9]+\\."), ".N.")))
          known = true;
        for (const OptionSpec& o : d->options)  // a value: `null_blk` of profile
          if (o.type == OptionType::kChoice && CheckOptionValue(o, word, "").ok()) known = true;
      }
      EXPECT_TRUE(known) << "README's row for " << head << " names `" << word
                         << "`, which none of its drivers declares";
    }
  }
  for (const DriverSpec* d : BuiltinDrivers())
    EXPECT_TRUE(rows.count(std::string(d->name))) << "README's driver table has no row for "
                                                  << d->name;
}

}  // namespace
}  // namespace zbl
