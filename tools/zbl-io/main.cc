// zbl-io: a qemu-io compatible command-line tool for zbl's zoned block devices.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "image.h"
#include "shell.h"
#include "zbl/backend.h"

namespace {

constexpr const char kProgname[] = "zbl-io";

void Usage() {
  std::cout << "Usage: " << kProgname
            << " [OPTIONS]... [-c STRING]... [file]\n"
               "zbl zoned block device exerciser (qemu-io compatible)\n"
               "\n"
               "  --image-opts         treat file as option string\n"
               "                       (driver=emulated,model=hm,size=1G,zone-size=64M)\n"
               "  -c, --cmd STRING     execute command with its arguments\n"
               "                       from the given string\n"
               "  -f, --format FMT     specifies the block driver to use (file or raw)\n"
               "  -n, --nocache        disable host cache (cache.direct=on)\n"
               "  -h, --help           display this help and exit\n"
               "  -V, --version        output version information and exit\n"
               "\n"
               "See '"
            << kProgname << " -c help' for information on available commands.\n";
}

// Runs the -c commands, or reads commands from stdin. Returns qemu-io's last error (0 or <0).
int CommandLoop(zbl::io::Shell& shell, const std::vector<std::string>& cmds) {
  int last_error = 0;
  if (!cmds.empty()) {
    for (size_t i = 0; i < cmds.size() && !shell.quit_requested(); ++i) {
      int r = shell.Execute(cmds[i]);
      if (r < 0) last_error = r;
    }
    return last_error;
  }
  std::string line;
  while (!shell.quit_requested()) {
    // qemu-io prints its prompt whether or not stdin is a terminal.
    std::cout << kProgname << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    int r = shell.Execute(line);
    if (r < 0) last_error = r;
  }
  return last_error;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zbl-io", kProgname};
  app.set_help_flag();
  bool help = false, version = false;
  zbl::io::ImageArgs image;
  std::vector<std::string> cmds;
  app.add_flag("-h,--help", help);
  app.add_flag("-V,--version", version);
  app.add_flag("--image-opts", image.image_opts);
  app.add_flag("-n,--nocache", image.nocache);
  app.add_option("-f,--format", image.format);
  app.add_option("-c,--cmd", cmds)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("file", image.image);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::cerr << kProgname << ": " << e.what() << "\n";
    Usage();
    return 1;
  }
  if (help) {
    Usage();
    return 0;
  }
  if (version) {
    std::cout << kProgname << " version " << ZBL_VERSION << " (zbl " << ZBL_COMMIT << ")\n";
    return 0;
  }
  std::unique_ptr<zbl::Backend> dev;
  if (!image.image.empty() || image.image_opts) {
    auto opts = zbl::io::BuildOptionString(image);
    if (!opts.ok()) {
      std::cerr << kProgname << ": " << opts.status().message() << "\n";
      return 1;
    }
    auto b = zbl::Backend::Open(*opts);
    if (!b.ok()) {
      std::cerr << kProgname << ": can't open"
                << (image.image_opts ? "" : " device " + image.image) << ": "
                << b.status().ToString() << "\n";
      return 1;
    }
    dev = std::move(*b);
  }
  zbl::io::Shell shell(dev.get(), std::cout, std::cerr, kProgname);
  int ret = CommandLoop(shell, cmds);
  std::cout.flush();
  return ret < 0 ? 1 : 0;
}
