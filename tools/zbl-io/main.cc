// zbl-io: a qemu-io compatible command-line tool for zbl's zoned block devices.
//
// The command line is parsed as qemu-io parses it: glibc's getopt_long in its default (GNU,
// permuting) mode, so options, -c commands and the image may come in any order
// (`zbl-io -c "read 0 4k" disk.img`), "--" ends the options, long options take "=VALUE" or the
// next word, short flags cluster (-nr). Each option is applied as it is met, as qemu-io does
// (a bad -t value is reported before a later unknown option).
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
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
               "  -f, --format FMT     specifies the block driver to use\n"
               "                       (raw; file and host_device name the leaf driver)\n"
               "  -r, --read-only      export read-only\n"
               "  -n, --nocache        disable host cache, short for -t none\n"
               "  -k, --native-aio     use kernel AIO implementation (zbl: io_uring)\n"
               "  -i, --aio=MODE       use AIO mode (threads, native or io_uring;\n"
               "                       native is io_uring in zbl)\n"
               "  -t, --cache=MODE     use the given cache mode for the image (none and\n"
               "                       directsync set cache.direct=on; writeback,\n"
               "                       writethrough and unsafe are accepted)\n"
               "  -d, --discard=MODE   use the given discard mode (accepted, no effect)\n"
               "  -m, --misalign       accepted, no effect (buffers stay aligned)\n"
               "  -T, --trace OPTS     accepted and ignored: zbl has no QEMU trace events\n"
               "  -U, --force-share    force shared permissions (with -r)\n"
               "  -s, -C, --object     qemu-io's snapshot, copy-on-read and objects:\n"
               "                       not supported, refused\n"
               "  --explain            zbl only: before qemu-io's verdict on a failed\n"
               "                       request, print zbl's reason on stderr\n"
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
      if (r < 0) {
        last_error = r;
      }
    }
    return last_error;
  }
  std::string line;
  while (!shell.quit_requested()) {
    // qemu-io prints its prompt whether or not stdin is a terminal.
    std::cout << kProgname << "> " << std::flush;
    if (!std::getline(std::cin, line)) {
      // At end of input on a terminal qemu-io ends the prompt's line.
      if (isatty(STDIN_FILENO)) {
        std::cout << "\n";
      }
      break;
    }
    int r = shell.Execute(line);
    if (r < 0) {
      last_error = r;
    }
  }
  return last_error;
}

// An error of the command line itself, as qemu-io's error_report words it.
int Fail(const std::string& msg) {
  std::cout.flush();
  std::cerr << kProgname << ": " << msg << "\n";
  return 1;
}

enum LongOnly { kOptObject = 256, kOptImageOpts, kOptExplain };

// qemu-io's option set: short options and their long names (getopt_long accepts any
// unambiguous prefix of a long name, and says which names an ambiguous one matches).
constexpr const char kShortOptions[] = "hVc:d:f:rsnCmki:t:T:U";
const struct option kLongOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {"cmd", required_argument, nullptr, 'c'},
    {"format", required_argument, nullptr, 'f'},
    {"read-only", no_argument, nullptr, 'r'},
    {"snapshot", no_argument, nullptr, 's'},
    {"nocache", no_argument, nullptr, 'n'},
    {"copy-on-read", no_argument, nullptr, 'C'},
    {"misalign", no_argument, nullptr, 'm'},
    {"native-aio", no_argument, nullptr, 'k'},
    {"discard", required_argument, nullptr, 'd'},
    {"cache", required_argument, nullptr, 't'},
    {"aio", required_argument, nullptr, 'i'},
    {"trace", required_argument, nullptr, 'T'},
    {"object", required_argument, nullptr, kOptObject},
    {"image-opts", no_argument, nullptr, kOptImageOpts},
    {"force-share", no_argument, nullptr, 'U'},
    {"explain", no_argument, nullptr, kOptExplain},  // zbl only
    {nullptr, 0, nullptr, 0},
};

int Main(int argc, char** argv) {
  zbl::io::ImageArgs image;
  std::vector<std::string> cmds;
  bool explain = false;
  // getopt's messages carry argv[0] as given, as qemu-io's do; glibc prints them on stderr.
  opterr = 1;
  optind = 1;
  for (;;) {
    int c = getopt_long(argc, argv, kShortOptions, kLongOptions, nullptr);
    if (c == -1) {
      break;
    }
    switch (c) {
      case 'h':
        Usage();
        return 0;
      case 'V':
        std::cout << kProgname << " version " << ZBL_VERSION << " (zbl " << ZBL_COMMIT << ")\n";
        return 0;
      case 'c':
        cmds.emplace_back(optarg);
        break;
      case 'f':
        image.format = optarg;
        break;
      case 'r':
        image.read_only = true;
        break;
      case 'n':
        image.nocache = true;
        break;
      case 't': {
        auto mode = zbl::io::ParseCacheMode(optarg);
        if (!mode) {
          return Fail(std::string("Invalid cache option: ") + optarg);
        }
        image.nocache = mode->direct;
        break;
      }
      case 'k':
        image.aio = "native";
        break;
      case 'i':
        if (!zbl::io::IsAioMode(optarg)) {
          return Fail(std::string("Invalid aio option: ") + optarg);
        }
        image.aio = optarg;
        break;
      case 'd':
        if (!zbl::io::IsDiscardMode(optarg)) {
          return Fail(std::string("Invalid discard option: ") + optarg);
        }
        break;
      case 'm':
      case 'T':
        break;
      case 'U':
        image.force_share = true;
        break;
      case kOptImageOpts:
        image.image_opts = true;
        break;
      case kOptExplain:
        explain = true;
        break;
      case 's':
        return Fail("-s (snapshot) is not supported: zbl has no temporary overlay");
      case 'C':
        return Fail("-C (copy-on-read) is not supported: zbl has no backing images");
      case kOptObject:
        return Fail("--object is not supported: zbl has no QEMU objects");
      default:  // '?': getopt has printed its complaint
        Usage();
        return 1;
    }
  }
  if (argc - optind > 1) {
    Usage();
    return 1;
  }
  if (image.image_opts && !image.format.empty()) {
    return Fail("--image-opts and -f are mutually exclusive");
  }
  zbl::io::Shell shell(nullptr, std::cout, std::cerr, kProgname);
  shell.set_image_opts(image.image_opts);
  shell.set_explain(explain);
  shell.set_process_commands(true);
  if (argc - optind == 1) {
    image.image = argv[optind];
    auto dev = zbl::io::OpenImage(image);
    if (!dev.ok()) {
      return Fail(dev.status().message());
    }
    if (image.format.empty() && !image.image_opts) {
      zbl::io::WarnProbedRaw(shell.err(), image.image);
    }
    shell.Adopt(std::move(*dev), &image);
  }
  int ret = CommandLoop(shell, cmds);
  shell.Drain();
  std::cout.flush();
  return ret < 0 ? 1 : 0;
}

}  // namespace

// The signals QEMU's main loop takes over (SIGBUS, SIGUSR1, SIGALRM, SIGIO through a signalfd)
// or ignores (SIGPIPE) do not end qemu-io; `sigraise` of one must not end zbl-io either.
static void SignalsAsQemuIo() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGBUS, SIGUSR1, SIGALRM, SIGIO}) {
    sigaddset(&set, sig);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char** argv) {
  SignalsAsQemuIo();
  // Nothing below throws by design; an allocation failure for a huge buffer still may.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << kProgname << ": " << e.what() << "\n";
    return 1;
  }
}
