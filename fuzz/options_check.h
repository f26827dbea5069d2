// Checks one option string: parsing never crashes or throws, what parses prints back to the
// same tree, and opening small devices either fails with an errno or gives valid limits.
// A broken invariant prints the input and aborts.
#pragma once

#include <string_view>

namespace zbl::fuzz {

void CheckOptionString(std::string_view text);

}  // namespace zbl::fuzz
