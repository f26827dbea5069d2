#include "shell.h"

#include <cerrno>

namespace zbl::io {

int Shell::Execute(std::string_view line) {
  std::vector<std::string> argv = Tokenize(line);
  if (argv.empty()) return 0;
  const CommandSpec* spec = FindCommand(argv[0]);
  if (spec == nullptr) {
    err() << "command \"" << argv[0] << "\" not found\n";
    return -EINVAL;
  }
  // qemu-io checks for an open file before it checks the argument count.
  if (!(spec->flags & kCommandGlobal) && device_ == nullptr) {
    err() << "no file open, try 'help open'\n";
    return -EINVAL;
  }
  if (Status st = CheckArgCount(*spec, argv); !st.ok()) {
    err() << st.message() << "\n";
    return -st.code();
  }
  return spec->run(*this, argv);
}

void Shell::ReportDetail(const Status& st) {
  if (st.ok() || st.message().empty()) return;
  err() << progname_ << ": " << st.message() << "\n";
}

void Shell::PrintUsage(const CommandSpec& spec) {
  out_ << spec.name << " " << (spec.args ? spec.args : "(null)") << " -- " << spec.oneline << "\n";
}

}  // namespace zbl::io
