#include "command_line.h"

#include <cstring>

#include <fmt/format.h>

namespace zbl::io {

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (name == c.name || (c.altname != nullptr && name == c.altname)) return &c;
  }
  return nullptr;
}

std::vector<std::string> Tokenize(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= line.size()) {
    size_t sp = line.find(' ', i);
    if (sp == std::string_view::npos) sp = line.size();
    if (sp > i) out.emplace_back(line.substr(i, sp - i));
    i = sp + 1;
  }
  return out;
}

Status CheckArgCount(const CommandSpec& spec, std::span<const std::string> argv) {
  const int n = static_cast<int>(argv.size()) - 1;
  if (n >= spec.argmin && (spec.argmax == -1 || n <= spec.argmax)) return Status::Ok();
  const std::string& cmd = argv[0];
  if (spec.argmax == -1)
    return Error(EINVAL, "bad argument count {} to {}, expected at least {} arguments", n, cmd,
                 spec.argmin);
  if (spec.argmin == spec.argmax)
    return Error(EINVAL, "bad argument count {} to {}, expected {} arguments", n, cmd, spec.argmin);
  return Error(EINVAL, "bad argument count {} to {}, expected between {} and {} arguments", n, cmd,
               spec.argmin, spec.argmax);
}

Result<ParsedCommand> ParseCommandLine(std::string_view line) {
  ParsedCommand pc;
  pc.argv = Tokenize(line);
  if (pc.argv.empty()) return pc;
  pc.spec = FindCommand(pc.argv[0]);
  if (pc.spec == nullptr) return Error(EINVAL, "command \"{}\" not found", pc.argv[0]);
  ZBL_RETURN_IF_ERROR(CheckArgCount(*pc.spec, pc.argv));
  return pc;
}

}  // namespace zbl::io
