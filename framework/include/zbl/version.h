// zbl's version and the commit it was built from, stamped into results and tools' --version.
// Only framework/src/version.cc is compiled with the commit, so a new commit rebuilds one file
// (a compile definition on every target made every commit a full, uncacheable rebuild).
#pragma once

#include <string_view>

namespace zbl {

std::string_view Version();  // "0.1.0"
std::string_view Commit();   // short hash, or "unknown" outside a git checkout

}  // namespace zbl
