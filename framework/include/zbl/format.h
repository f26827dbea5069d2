// The one formatter of numbers in messages and option text: hex offsets and exact sizes.
#pragma once

#include <cstdint>
#include <string>

namespace zbl {

// "0x1000" (what qemu-io and the kernel's messages show for offsets).
std::string Hex(uint64_t v);
// The shortest exact form with a binary suffix that ParseSize reads back: "1G", "64M", "4k",
// "4097"; 0 is "0".
std::string SizeText(uint64_t v);

}  // namespace zbl
