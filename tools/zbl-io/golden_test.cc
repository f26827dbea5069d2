// Golden-output tests: each testdata/NAME.in is a zbl-io invocation, NAME.out the output
// qemu-io would print for it (stdout and stderr together, as qemu-iotests record them).
//
// NAME.in holds directives and commands:
//   # comment
//   args: --image-opts driver=emulated,...   the command line ("double quotes" group words)
//   exit: 1                                  the expected exit status (default 0)
//   stdin:                                   the remaining lines go to stdin, not to -c
//   zrp 0 4                                  any other line is one -c command
// Timings vary, so rate lines are normalised as qemu-iotests' _filter_qemu_io does, after
// checking that they have qemu-io's exact shape. zbl-io's own diagnostic lines
// ("zbl-io: <why>", on stderr, before qemu-io's verdict) carry the drivers' wording, which
// their own tests own: the golden files keep the line and its place, the text becomes
// "<detail>". ZBL_IO_GOLDEN_ACTUAL=DIR saves what the
// program printed (for review: the .out files are written by reasoning from qemu-io's
// source, never copied from this program).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Script {
  std::vector<std::string> args;
  std::vector<std::string> commands;
  std::string stdin_text;
  bool use_stdin = false;
  int exit_status = 0;
};

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quotes = false, have = false;
  for (char c : s) {
    if (c == '"') {
      in_quotes = !in_quotes;
      have = true;
    } else if (c == ' ' && !in_quotes) {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

Script ReadScript(const fs::path& p) {
  std::ifstream in(p);
  Script s;
  std::string line;
  while (std::getline(in, line)) {
    if (s.use_stdin) {
      s.stdin_text += line + "\n";
    } else if (line.rfind("args:", 0) == 0) {
      s.args = SplitWords(line.substr(5));
    } else if (line.rfind("exit:", 0) == 0) {
      s.exit_status = std::stoi(line.substr(5));
    } else if (line == "stdin:") {
      s.use_stdin = true;
    } else if (!line.empty() && line[0] != '#') {
      s.commands.push_back(line);
    }
  }
  return s;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs zbl-io with stdout and stderr on one pipe; returns the output and the exit status.
std::pair<std::string, int> RunZblIo(const Script& s) {
  std::vector<std::string> argv{"zbl-io"};
  argv.insert(argv.end(), s.args.begin(), s.args.end());
  for (const auto& c : s.commands) {
    argv.push_back("-c");
    argv.push_back(c);
  }
  int out_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(in_pipe) != 0) return {"pipe failed", -1};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(in_pipe[1]);
    close(out_pipe[0]);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(ZBL_IO_BINARY, cargv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // Scripts are small: the whole stdin fits in the pipe buffer before zbl-io reads it.
  if (!s.stdin_text.empty() &&
      write(in_pipe[1], s.stdin_text.data(), s.stdin_text.size()) < 0) {
    close(in_pipe[1]);
  }
  close(in_pipe[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// qemu-io's rate lines, checked for shape, then with the timing parts replaced.
std::string Normalise(const std::string& text) {
  static const std::regex kRate(
      R"(^(.+), (\d+) ops; (\d\d\.\d\d sec|\d+:\d\d:\d\d\.\d\d) \(([0-9]+(\.[0-9]+)?|inf) )"
      R"((bytes|KiB|MiB|GiB|TiB|PiB|EiB)/sec and ([0-9]+\.[0-9]{4}|inf) ops/sec\)$)");
  static const std::regex kDetail(R"(^((?:zbl-io> )*)zbl-io: (can't open(?: device [^:]*)?: )?.*$)");
  static const std::regex kTerse(R"(^(\d+),(\d+),\d+:\d\d:\d\d\.\d\d,([0-9.]+|inf),([0-9.]+|inf)$)");
  std::istringstream in(text);
  std::string out, line;
  bool ends_with_newline = !text.empty() && text.back() == '\n';
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kRate)) {
      line = m[1].str() + ", X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)";
    } else if (std::regex_match(line, m, kTerse)) {
      line = m[1].str() + ",X,XX:XX:XX.XX,XXX,XXX";
    } else if (std::regex_match(line, m, kDetail)) {
      line = m[1].str() + "zbl-io: " + m[2].str() + "<detail>";
    }
    out += line + "\n";
  }
  if (!ends_with_newline && !out.empty()) out.pop_back();
  return out;
}

std::vector<std::string> ScriptNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(ZBL_IO_TESTDATA)) {
    if (e.path().extension() == ".in") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, OutputAndExitStatusMatch) {
  const fs::path dir(ZBL_IO_TESTDATA);
  Script s = ReadScript(dir / (GetParam() + ".in"));
  auto [out, status] = RunZblIo(s);
  if (const char* keep = std::getenv("ZBL_IO_GOLDEN_ACTUAL")) {
    std::ofstream(fs::path(keep) / (GetParam() + ".actual")) << out;
  }
  EXPECT_EQ(Normalise(out), ReadFile(dir / (GetParam() + ".out")));
  EXPECT_EQ(status, s.exit_status);
}

TEST(GoldenNormalise, RejectsMisshapenRateLines) {
  EXPECT_EQ(Normalise("4 KiB, 1 ops; 00.00 sec (314.032 MiB/sec and 80392.3145 ops/sec)\n"),
            "4 KiB, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)\n");
  EXPECT_EQ(Normalise("4 KiB, 1 ops; 0:00:01.50 (2.667 KiB/sec and 0.6667 ops/sec)\n"),
            "4 KiB, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)\n");
  // Wrong shapes stay as they are, so the comparison with the golden file fails.
  const std::string bad = "4 KiB, 1 ops; 0.00 sec (314.032 MiB/sec and 80392.31 ops/sec)\n";
  EXPECT_EQ(Normalise(bad), bad);
  EXPECT_EQ(Normalise("4096,1,0:00:00.00,314.032,80392.315\n"), "4096,X,XX:XX:XX.XX,XXX,XXX\n");
  EXPECT_EQ(Normalise("zbl-io: zone 2 is full\n"), "zbl-io: <detail>\n");
  EXPECT_EQ(Normalise("zbl-io> zbl-io: can't open device /x: EINVAL: y\nzbl-io> "),
            "zbl-io> zbl-io: can't open device /x: <detail>\nzbl-io> ");
}

INSTANTIATE_TEST_SUITE_P(Scripts, Golden, ::testing::ValuesIn(ScriptNames()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
