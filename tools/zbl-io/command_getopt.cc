#include "command_getopt.h"

namespace zbl::io {
namespace {

// 0 when `c` is not an option, 1 for a flag, 2 for an option taking an argument.
int OptionArity(std::string_view optstring, char c) {
  if (c == ':') {
    return 0;
  }
  size_t p = optstring.find(c);
  if (p == std::string_view::npos) {
    return 0;
  }
  return p + 1 < optstring.size() && optstring[p + 1] == ':' ? 2 : 1;
}

// Scans one option cluster argv[i] ("-qvP5"); may consume argv[i + 1]. Returns false on error.
bool ScanCluster(std::span<const std::string> argv, size_t& i, std::string_view optstring,
                 GetoptResult& out) {
  const std::string& a = argv[i];
  for (size_t j = 1; j < a.size(); ++j) {
    OptionEvent ev;
    ev.opt = a[j];
    int arity = OptionArity(optstring, a[j]);
    if (arity == 0) {
      ev.kind = OptionEvent::Kind::kInvalid;
      out.options.push_back(ev);
      return false;
    }
    if (arity == 2) {
      if (j + 1 < a.size()) {
        ev.arg = a.substr(j + 1);
      } else if (i + 1 < argv.size()) {
        ev.arg = argv[++i];
      } else {
        ev.kind = OptionEvent::Kind::kMissingArgument;
        out.options.push_back(ev);
        return false;
      }
      out.options.push_back(ev);
      return true;
    }
    out.options.push_back(ev);
  }
  return true;
}

}  // namespace

GetoptResult Getopt(std::span<const std::string> argv, std::string_view optstring) {
  GetoptResult out;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.operands.insert(out.operands.end(), argv.begin() + static_cast<ptrdiff_t>(i) + 1,
                          argv.end());
      break;
    }
    if (a.size() > 1 && a[0] == '-') {
      if (!ScanCluster(argv, i, optstring, out)) {
        break;
      }
      continue;
    }
    out.operands.push_back(a);
  }
  return out;
}

std::string GetoptMessage(const OptionEvent& ev, std::string_view command) {
  std::string cmd(command);
  switch (ev.kind) {
    case OptionEvent::Kind::kInvalid:
      return cmd + ": invalid option -- '" + ev.opt + "'";
    case OptionEvent::Kind::kMissingArgument:
      return cmd + ": option requires an argument -- '" + ev.opt + "'";
    case OptionEvent::Kind::kOption:
      break;
  }
  return {};
}

}  // namespace zbl::io
