// The command lines qemu-io's users write, run through the real qemu-io (QEMU 10) and through
// zbl-io, each on its own fresh copy of the same plain file: every stdout and stderr line, the
// exit status and the image's bytes afterwards must be equal.
//
// Normalised before comparing, and nothing else: the program name (argv[0] as given, and the
// basename "qemu-io"/"zbl-io"), qemu-io's timing lines ("4 KiB, 1 ops; 00.00 sec (...)") and the
// timing fields of -C lines (the "wrote 4096/4096 bytes at offset 0" lines stay), and the body
// of the usage text (each tool describes its own options; the "Usage:" line stays).
// Skips, with the reason, when qemu-io is not installed (ci/deps.sh installs it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr const char kQemuIo[] = "/usr/bin/qemu-io";

struct Case {
  const char* name;
  std::vector<std::string> args;  // "disk.img" is the fresh image in the working directory
  uint64_t image_size = 1 << 20;
};

// gtest prints a failing case as its command line.
void PrintTo(const Case& c, std::ostream* os) {
  *os << "qemu-io";
  for (const auto& a : c.args) {
    *os << " '" << a << "'";
  }
}

// Forms users write: image last, image first, several -c, options after the image, -f raw,
// --image-opts with the option string last, long options with = or a separate word, clusters,
// "--", and the mistakes (unknown options, missing arguments, two images, bad modes).
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"image_last", {"-c", "read 0 4k", "disk.img"}},
      {"image_first", {"disk.img", "-c", "read 0 4k"}},
      {"several_c", {"-f", "raw", "-c", "write -P 0x5a 0 4k", "-c", "read -P 0x5a 0 4k",
                     "-c", "read -P 0 4k 4k", "disk.img"}},
      {"options_after_image", {"-f", "raw", "disk.img", "-c", "write 4k 4k", "-c", "read -v 4k 32"}},
      {"f_raw_info", {"-f", "raw", "-c", "info", "-c", "length", "disk.img"}},
      {"image_opts_last", {"--image-opts", "-c", "write -P 3 0 512", "-c", "read -P 3 0 512",
                           "driver=raw,file.driver=file,file.filename=disk.img"}},
      {"image_opts_file", {"--image-opts", "-c", "info", "driver=file,filename=disk.img"}},
      {"cmd_equals", {"--cmd=length", "-f", "raw", "disk.img"}},
      {"cmd_word_dashdash", {"--cmd", "write 0 1k", "-f", "raw", "--", "disk.img"}},
      {"long_prefix", {"--form", "raw", "disk.img", "--cmd=length"}},
      {"format_equals", {"--format=raw", "disk.img", "-c", "map"}},
      {"cluster_nr", {"-nr", "-f", "raw", "disk.img", "-c", "write 0 4k", "-c", "read 0 4k"}},
      {"read_only", {"-r", "-f", "raw", "disk.img", "-c", "read 0 4k", "-c", "writev 0 512",
                     "-c", "aio_write 0 512", "-c", "discard 0 4k", "-c", "truncate 2M"}},
      {"read_only_long", {"--read-only", "-f", "raw", "disk.img", "-c", "length"}},
      {"cache_none", {"-t", "none", "-f", "raw", "disk.img", "-c", "write 0 4k",
                      "-c", "read -P 0xcd 0 4k"}},
      {"cache_writeback", {"-t", "writeback", "-f", "raw", "disk.img", "-c", "write 0 512"}},
      {"cache_directsync", {"--cache=directsync", "-f", "raw", "disk.img", "-c", "write 0 512"}},
      {"cache_writethrough", {"-t", "writethrough", "-f", "raw", "disk.img", "-c", "read 0 512"}},
      {"cache_unsafe", {"-tunsafe", "-f", "raw", "disk.img", "-c", "write 512 512"}},
      {"cache_bogus", {"-t", "bogus", "disk.img", "-c", "length"}},
      {"aio_threads", {"-i", "threads", "-f", "raw", "disk.img", "-c", "write 0 4k"}},
      {"aio_native_n", {"-n", "-i", "native", "-f", "raw", "disk.img", "-c", "write 0 4k"}},
      {"aio_native_cached", {"-i", "native", "-f", "raw", "disk.img", "-c", "length"}},
      {"aio_bogus", {"--aio=bogus", "-f", "raw", "disk.img", "-c", "length"}},
      {"force_share_ro", {"-U", "-r", "-f", "raw", "disk.img", "-c", "read 0 512"}},
      {"force_share_rw", {"-U", "-f", "raw", "disk.img", "-c", "length"}},
      {"discard_mode", {"-d", "unmap", "-f", "raw", "disk.img", "-c", "length"}},
      {"discard_mode_bogus", {"-d", "bogus", "-f", "raw", "disk.img", "-c", "length"}},
      {"trace_ignored", {"-T", "events=/dev/null", "-f", "raw", "disk.img", "-c", "length"}},
      {"unknown_short", {"-x", "disk.img", "-c", "length"}},
      {"unknown_long", {"--bogus", "disk.img"}},
      {"ambiguous_long", {"--for", "raw", "disk.img"}},
      {"flag_with_value", {"--read-only=yes", "disk.img"}},
      {"missing_c_argument", {"-c"}},
      {"missing_t_argument", {"-f", "raw", "disk.img", "-t"}},
      {"two_images", {"disk.img", "other.img"}},
      {"image_opts_and_f", {"--image-opts", "-f", "raw", "driver=file,filename=disk.img"}},
      {"no_image", {"-f", "raw", "-c", "length", "-c", "help alloc"}},
      {"help_table", {"-c", "help"}},
      {"usage", {"-h"}},
      {"vectors", {"-f", "raw", "disk.img", "-c", "writev -P 7 0 512 1k", "-c",
                   "readv -P 7 0 512 512 512", "-c", "readv -v 0 16 16", "-c", "readv -q 0 512",
                   "-c", "writev -q -P 8 2k 1k", "-c", "readv -P 8 -C 2k 1k"}},
      {"vector_errors", {"-f", "raw", "disk.img", "-c", "readv 0 2M", "-c", "writev 1M 1",
                         "-c", "readv -P 300 0 1", "-c", "writev -z 0 1", "-c", "readv 0",
                         "-c", "readv 0 x"}},
      {"aio", {"-f", "raw", "disk.img", "-c", "aio_write -P 9 0 4k", "-c", "aio_flush",
               "-c", "aio_read -P 9 0 4k", "-c", "aio_flush", "-c", "aio_read -i 0 1",
               "-c", "aio_write -i 0 1", "-c", "aio_write -u 0 1", "-c", "aio_flush x"}},
      {"aio_errors", {"-f", "raw", "disk.img", "-c", "aio_read 2M 1", "-c", "aio_flush",
                      "-c", "aio_write 2M 1", "-c", "aio_flush", "-c", "aio_write -q -z 0 4k",
                      "-c", "aio_flush", "-c", "read -P 0 0 4k"}},
      {"discard_map_alloc", {"-f", "raw", "disk.img", "-c", "write 0 64k", "-c", "discard 0 4k",
                             "-c", "read -P 0 0 4k", "-c", "read -P 0xcd 4k 4k", "-c", "map",
                             "-c", "alloc 0", "-c", "alloc 0 64k", "-c", "alloc 1 1",
                             "-c", "alloc 1M 4k", "-c", "a 512k 1M", "-c", "discard -q 4k 4k",
                             "-c", "discard 0 2M", "-c", "discard -x 0 1", "-c", "map x"}},
      {"truncate", {"-f", "raw", "disk.img", "-c", "truncate 2M", "-c", "length",
                    "-c", "truncate -m bogus 1M", "-c", "truncate -m full 512k",
                    "-c", "truncate -m metadata 4M", "-c", "t -m falloc 3M", "-c", "map",
                    "-c", "truncate 1M 2M", "-c", "length"}},
      {"reopen", {"-f", "raw", "disk.img", "-c", "reopen -r", "-c", "write 0 1",
                  "-c", "reopen -w", "-c", "write 0 512", "-c", "reopen -r -w",
                  "-c", "reopen -c bogus", "-c", "reopen -c none", "-c", "reopen x",
                  "-c", "reopen -o foo=bar"}},
      {"reopen_rw_after_r", {"-r", "-f", "raw", "disk.img", "-c", "reopen -w", "-c",
                             "write -P 4 0 4k", "-c", "read -P 4 0 4k"}},
      {"sleep_breakpoints", {"-f", "raw", "disk.img", "-c", "sleep 5", "-c", "sleep x",
                             "-c", "sleep -1", "-c", "sleep", "-c", "break write_aio a",
                             "-c", "remove_break a", "-c", "resume a", "-c", "break"}},
      {"read_options", {"-f", "raw", "disk.img", "-c", "write -P 0x22 0 4k",
                        "-c", "read -P 0x22 -s 512 -l 512 0 4k", "-c", "read -p 0 512",
                        "-c", "read -C 0 512", "-c", "read -q 0 512", "-c", "read -v 0 32",
                        "-c", "read -P 0x23 0 512", "-c", "read -l 512 0 4k",
                        "-c", "read -P 0x22 -s 4k 0 4k", "-c", "read -a 0 1", "-c", "read 0 x",
                        "-c", "read -r 0 512", "-c", "read 0 512 -v", "-c", "read -P 0x22 -- 0 16",
                        "-c", "read -P 0x22 -l 8 -s 8 8 8", "-c", "read 0 2M"}},
      {"write_options", {"-f", "raw", "disk.img", "-c", "write -z 0 4k", "-c", "write -z -u 4k 4k",
                         "-c", "write -z -n 8k 4k", "-c", "write -f 0 512", "-c", "write -C 0 512",
                         "-c", "write -q 0 512", "-c", "write -P 0x80 -z 0 1", "-c", "write -n 0 1",
                         "-c", "write -u 0 1", "-c", "write -P 300 0 1", "-c", "write 1 1000",
                         "-c", "read -P 0xcd 1 1000", "-c", "write -x 0 1", "-c", "w 0 -512",
                         "-c", "write 1M 1"}},
      {"zone_commands_plain_file", {"-f", "raw", "disk.img", "-c", "zrp 0 1", "-c", "zo 0 4k",
                                    "-c", "zap -p 0 4k 4k", "-c", "zap 0 4k", "-c", "zrp x 1"}},
      {"open_close", {"-f", "raw", "disk.img", "-c", "close", "-c", "length", "-c", "open disk.img",
                      "-c", "info", "-c", "close", "-c", "open -r -o driver=raw disk.img",
                      "-c", "write 0 1", "-c", "open disk.img", "-c", "o -x"}},
      {"stdin_prompt", {"-f", "raw", "disk.img"}},
      {"quit_stops", {"-f", "raw", "disk.img", "-c", "length", "-c", "quit", "-c", "write 0 4k"}},
      {"image_opts_nocache", {"--image-opts", "-n", "-c", "write 0 4k", "-c", "info",
                              "driver=file,filename=disk.img"}},
      {"sigraise_checks", {"-f", "raw", "disk.img", "-c", "sigraise 100", "-c", "sigraise x"}},
      {"sigraise_term", {"-f", "raw", "disk.img", "-c", "sigraise 15"}},
      {"unknown_command", {"-f", "raw", "disk.img", "-c", "bogus 1", "-c", "flush",
                           "-c", "f", "-c", "l"}},
      {"direct_size_off_alignment", {"-n", "-f", "file", "disk.img", "-c", "length"},
       (1 << 20) + 512},
      {"direct_size_off_alignment_ro", {"-nr", "-f", "file", "disk.img", "-c", "length"},
       (1 << 20) + 512},
      {"zone_management_beyond_end", {"-f", "file", "disk.img", "-c", "zf 1M 4k",
                                      "-c", "zrs 1020k 8k", "-c", "zo 2M 4k", "-c", "zc 0 4k"}},
      {"commands_without_a_file", {"-c", "sleep 1k", "-c", "sigraise 15 1", "-c", "abort x",
                                   "-c", "sleep 1", "-c", "map"}},
      {"signals_qemu_survives", {"-f", "raw", "disk.img", "-c", "sigraise 10", "-c", "sigraise 13",
                                 "-c", "sigraise 14", "-c", "sigraise 29", "-c", "sigraise 7",
                                 "-c", "length"}},
      {"truncate_fixed_size_raw", {"--image-opts", "-c", "truncate 32k", "-c",
                                   "truncate -m metadata 32768", "-c", "length",
                                   "driver=raw,offset=4096,size=65536,file.driver=file,"
                                   "file.filename=disk.img"}},
      {"missing_image", {"-f", "raw", "nosuch.img", "-c", "length"}},
      {"missing_image_opts_file", {"--image-opts", "driver=file,filename=nosuch.img"}},
      {"unknown_format", {"--format=bogus", "disk.img", "-c", "length"}},
      {"raw_window_off_grid", {"--image-opts", "-c", "length",
                               "driver=raw,size=1000,file.driver=file,file.filename=disk.img"}},
      {"compressed_write_beyond_end", {"-f", "raw", "disk.img", "-c", "write -c 1032192 128k"}},
      {"open_missing_after_close", {"-f", "raw", "disk.img", "-c", "close",
                                    "-c", "open -t none -o driver=file nosuch.img"}},
      {"reopen_options", {"--image-opts", "-c", "reopen -o cache.direct=on", "-c",
                          "reopen -o filename=disk.img", "-c", "reopen -o locking=off", "-c",
                          "reopen -o driver=file", "-c", "reopen -o read-only=off", "-c",
                          "reopen -o cache.direct=on -c none", "-c", "write 0 512",
                          "driver=file,filename=disk.img"}},
      {"write_z_over_c_and_source", {"-f", "raw", "disk.img", "-c", "write -z -c -u 120k 20k",
                                     "-c", "write -s nosuch.bin 0 512", "-c", "write -s disk.img 4k 4k",
                                     "-c", "read -P 0x11 4k 512"}},
      {"write_s_zero_length", {"-f", "raw", "disk.img", "-c", "write -s disk.img 4k 0", "-c",
                               "write -s disk.img 4k 512"}},
      {"partial_last_block", {"-f", "raw", "disk.img", "-c", "truncate 0x80300", "-c", "map",
                              "-c", "length", "-c", "read 0x80300 256", "-c",
                              "write -P 1 0x80300 256", "-c", "read -P 1 0x80300 256"}},
      // O_DIRECT and a size off the request alignment: QEMU checks the write permission when
      // it is taken (the first write after reopen -w, a reopen while O_DIRECT is on).
      {"reopen_w_direct_unaligned_size", {"-t", "none", "-r", "-f", "raw", "disk.img", "-c",
                                          "reopen -w", "-c", "write 0 512", "-c", "truncate 2M",
                                          "-c", "write 0 512", "-c", "length"},
       (1 << 20) + 1536},
      {"reopen_ro_then_direct", {"-r", "-f", "raw", "disk.img", "-c", "reopen -o cache.direct=on",
                                 "-c", "reopen -w", "-c", "write 0 512"},
       (1 << 20) + 1536},
      {"reopen_options_kept_after_rw_error", {"-f", "raw", "disk.img", "-c",
                                              "reopen -o bogus=1 -r -w", "-c", "reopen", "-c",
                                              "reopen"}},
      {"unknown_format_before_force_share", {"-U", "-f", "--", "disk.img", "-c", "length"}},
      {"open_o_names_file_driver", {"-f", "raw", "disk.img", "-c", "close", "-c",
                                    "open -o driver=raw,file.driver=file disk.img", "-c",
                                    "write 0 512", "-c", "info"}},
      {"truncate_takes_resize_permission", {"-f", "raw", "--nocache", "disk.img", "-c",
                                            "truncate 1048676", "-c", "reopen -w", "-c",
                                            "write 0 512", "-c", "reopen"}},
      {"reopen_direct_pads_like_qemu", {"-f", "raw", "disk.img", "-c", "reopen -o cache.direct=on",
                                        "-c", "write -z -n 100 1000", "-c",
                                        "reopen -o cache.direct=off", "-c", "write -z -n 100 1000"}},
      {"abort_after_output", {"-f", "raw", "disk.img", "-c", "length", "-c", "abort"}},
  };
  return cases;
}

struct ToolRun {
  std::vector<std::string> out, err;
  int status = -1;  // exit status, or 128 + signal
  std::string image;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

// Runs `binary` with `args` in `dir`, stdin from /dev/null, for at most 20 s.
ToolRun RunTool(const std::string& binary, const std::vector<std::string>& args, const fs::path& dir) {
  int out_pipe[2], err_pipe[2];
  ToolRun run;
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    return run;
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) {
      _exit(126);
    }
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) {
      cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);
    execv(binary.c_str(), cargv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::string out, err;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    for (pollfd& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) {
        continue;
      }
      char buf[4096];
      ssize_t n = read(p.fd, buf, sizeof(buf));
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
      } else {
        (&p == &fds[0] ? out : err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) {
      close(p.fd);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = Lines(out);
  run.err = Lines(err);
  run.image = ReadAll(dir / "disk.img");
  return run;
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) {
    s.replace(p, from.size(), to);
  }
}

// The normalisation described at the top of the file.
std::vector<std::string> Normalise(const std::vector<std::string>& lines, const std::string& binary,
                                   const std::string& base) {
  static const std::regex rate(R"(^[0-9.]+ (bytes|KiB|MiB|GiB|TiB|PiB|EiB), [0-9]+ ops; [0-9:.]+( sec)? \([0-9.inf]+ (bytes|KiB|MiB|GiB|TiB|PiB|EiB)/sec and [0-9.inf]+ ops/sec\)$)");
  static const std::regex csv(R"(^([0-9]+),([0-9]+),[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{2},[0-9.inf]+,[0-9.inf]+$)");
  std::vector<std::string> out;
  bool in_usage = false;
  for (std::string l : lines) {
    ReplaceAll(l, binary, "PROG");
    ReplaceAll(l, base, "PROG");
    if (in_usage) {
      if (l.rfind("See 'PROG -c help'", 0) == 0) {
        in_usage = false;
      }
      continue;
    }
    if (l.rfind("Usage: PROG [OPTIONS]", 0) == 0) {
      out.push_back(l);
      out.push_back("<usage text>");
      in_usage = true;
      continue;
    }
    // qemu-io's usage ends with its bug-report address.
    if (l.rfind("See <https://qemu.org/contribute/report-a-bug>", 0) == 0 ||
        l.rfind("More information on the QEMU project at", 0) == 0) {
      continue;
    }
    if (std::regex_match(l, rate)) {
      continue;
    }
    std::smatch m;
    if (std::regex_match(l, m, csv)) {
      l = m[1].str() + "," + m[2].str() + ",<time>";
    }
    out.push_back(l);
  }
  // The blank line qemu-io prints between its usage and the bug-report address.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == "<usage text>" && out[i + 1].empty()) {
      out.erase(out.begin() + static_cast<ptrdiff_t>(i) + 1);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) {
    s += l + "\n";
  }
  return s;
}

class QemuIoTable : public ::testing::TestWithParam<Case> {};

TEST_P(QemuIoTable, SameLinesStatusAndImage) {
  if (access(kQemuIo, X_OK) != 0) {
    GTEST_SKIP() << kQemuIo << " is not installed (ci/deps.sh installs qemu-utils)";
  }
  const Case& c = GetParam();
  const fs::path root = fs::temp_directory_path() /
                        ("zbl_io_table_" + std::to_string(getpid()) + "_" + c.name);
  ToolRun runs[2];
  const std::string binaries[2] = {kQemuIo, ZBL_IO_BINARY};
  const std::string bases[2] = {"qemu-io", "zbl-io"};
  for (int t = 0; t < 2; ++t) {
    const fs::path dir = root / bases[t];
    fs::create_directories(dir);
    {
      // A fresh 1 MiB image with a recognisable first block (not a format header).
      std::ofstream img(dir / "disk.img", std::ios::binary);
      std::string block(512, '\x11');
      img.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    fs::resize_file(dir / "disk.img", c.image_size);
    runs[t] = RunTool(binaries[t], c.args, dir);
    runs[t].out = Normalise(runs[t].out, binaries[t], bases[t]);
    runs[t].err = Normalise(runs[t].err, binaries[t], bases[t]);
  }
  fs::remove_all(root);
  EXPECT_EQ(Join(runs[1].out), Join(runs[0].out)) << "stdout differs (zbl-io, then qemu-io)";
  EXPECT_EQ(Join(runs[1].err), Join(runs[0].err)) << "stderr differs (zbl-io, then qemu-io)";
  EXPECT_EQ(runs[1].status, runs[0].status) << "exit status";
  EXPECT_EQ(runs[1].image.size(), runs[0].image.size()) << "image size afterwards";
  EXPECT_TRUE(runs[1].image == runs[0].image) << "image bytes afterwards";
}

INSTANTIATE_TEST_SUITE_P(CommandLines, QemuIoTable, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(QemuIoTable, HasAtLeastThirtyCommandLines) { EXPECT_GE(Cases().size(), 30u); }

}  // namespace
