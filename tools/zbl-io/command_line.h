// zbl-io's command table and the parser of one command line (no side effects; fuzzable).
//
// The table is data, like qemu-io's cmdinfo_t: name, alias, argument synopsis, one-line help,
// argument count bounds, flags and the function that runs it. `help` prints it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zbl/status.h"

namespace zbl::io {

class Shell;

enum CommandFlags : unsigned {
  kCommandGlobal = 1u << 0,  // runs without an open device (help, quit)
  kCommandNoFile = 1u << 1,  // runs without an open device, argument count checked (open)
  kCommandZblOnly = 1u << 2,  // not in qemu-io: left out of `help`'s table so that it matches
  kCommandWrite = 1u << 3,    // writes (qemu's BLK_PERM_WRITE): refused on a read-only image
};

struct CommandSpec {
  const char* name;
  const char* altname;  // nullptr = no alias
  const char* args;     // nullptr = takes no arguments (help prints no synopsis)
  const char* oneline;
  int argmin;
  int argmax;  // -1 = no upper bound
  unsigned flags;
  const char* help;  // extended help for "help NAME"; nullptr = none
  // Runs the command: 0, or a negative errno when it failed (qemu-io's convention).
  int (*run)(Shell& shell, std::span<const std::string> argv);
};

// Every command, sorted by name (help lists them in this order).
std::span<const CommandSpec> Commands();
// The command named or aliased `name`, or nullptr.
const CommandSpec* FindCommand(std::string_view name);

// Splits a line as qemu-io does: on spaces only, empty fields dropped (tabs stay in words).
std::vector<std::string> Tokenize(std::string_view line);
// qemu-io's check of the argument count; the error text is qemu-io's
// ("bad argument count 1 to zrp, expected 2 arguments").
Status CheckArgCount(const CommandSpec& spec, std::span<const std::string> argv);

struct ParsedCommand {
  const CommandSpec* spec = nullptr;  // nullptr for a blank line
  std::vector<std::string> argv;      // argv[0] is the command as typed
};
// Tokenizes, finds the command and checks the argument count. Errors are EINVAL with
// qemu-io's message: `command "xyz" not found` or the bad argument count text.
Result<ParsedCommand> ParseCommandLine(std::string_view line);

}  // namespace zbl::io
