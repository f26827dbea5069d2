// The option scanning of glibc's getopt(3), as qemu-io's commands see it, without its globals.
//
// qemu-io parses each command's options with getopt in GNU mode: options may come after the
// operands ("read 0 4k -v"), "--" ends them, clusters ("-qv") and attached arguments
// ("-P0xcd") work, and a negative number is an option cluster ("-5" is an invalid option).
// Scanning stops at the first error, where qemu-io's commands stop too.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zbl::io {

struct OptionEvent {
  enum class Kind { kOption, kInvalid, kMissingArgument };
  Kind kind = Kind::kOption;
  char opt = 0;
  std::string arg;  // the option's argument, if it takes one
};

struct GetoptResult {
  std::vector<OptionEvent> options;   // in order; the last one may be an error
  std::vector<std::string> operands;  // the non-option arguments, in order
};

// Scans argv[1..] (argv[0] is the command name) with a getopt optstring ("CP:qv").
GetoptResult Getopt(std::span<const std::string> argv, std::string_view optstring);

// glibc's message for an error event: "read: invalid option -- 'x'".
std::string GetoptMessage(const OptionEvent& ev, std::string_view command);

}  // namespace zbl::io
