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
#include <set>
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
      if (have) {
        out.push_back(cur);
      }
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) {
    out.push_back(cur);
  }
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
  // --explain: the golden files keep zbl's reason lines ("zbl-io: <detail>") in their place.
  std::vector<std::string> argv{"zbl-io", "--explain"};
  argv.reserve(1 + s.args.size() + 2 * s.commands.size());
  argv.insert(argv.end(), s.args.begin(), s.args.end());
  for (const auto& c : s.commands) {
    argv.push_back("-c");
    argv.push_back(c);
  }
  int out_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(in_pipe) != 0) {
    return {"pipe failed", -1};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(in_pipe[1]);
    close(out_pipe[0]);
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (auto& a : argv) {
      cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);
    execv(ZBL_IO_BINARY, cargv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // Scripts are small: the whole stdin fits in the pipe buffer before zbl-io reads it.
  if (!s.stdin_text.empty() && write(in_pipe[1], s.stdin_text.data(), s.stdin_text.size()) < 0) {
    close(in_pipe[1]);
  }
  close(in_pipe[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "12", "12.5", "inf" (a rate over a zero time).
bool IsDecimal(std::string_view s, int fraction_digits = -1) {
  if (s == "inf") {
    return true;
  }
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) {
    return fraction_digits <= 0 && AllDigits(s);
  }
  std::string_view frac = s.substr(dot + 1);
  if (fraction_digits >= 0 && frac.size() != static_cast<size_t>(fraction_digits)) {
    return false;
  }
  return AllDigits(s.substr(0, dot)) && AllDigits(frac);
}

// qemu-io's timestr: "00.12 sec" or "1:02:03.50".
bool IsTime(std::string_view t, bool fixed_only) {
  if (!fixed_only && t.size() == 9 && t.substr(5) == " sec") {
    return IsDecimal(t.substr(0, 5), 2);
  }
  size_t c1 = t.find(':');
  if (c1 == std::string_view::npos || t.size() != c1 + 9) {
    return false;
  }
  return AllDigits(t.substr(0, c1)) && t[c1 + 3] == ':' && AllDigits(t.substr(c1 + 1, 2)) &&
         t.substr(c1 + 4).size() == 5 && IsDecimal(t.substr(c1 + 4), 2);
}

// "<bytes>, 1 ops; <time> (<rate> <unit>/sec and <n.nnnn> ops/sec)" -> "<bytes>".
bool MatchRate(const std::string& line, std::string& bytes) {
  size_t ops = line.find(" ops; ");
  if (ops == std::string::npos) {
    return false;
  }
  size_t comma = line.rfind(", ", ops);
  if (comma == std::string::npos || comma == 0 ||
      !AllDigits(line.substr(comma + 2, ops - comma - 2))) {
    return false;
  }
  std::string_view rest = std::string_view(line).substr(ops + 6);
  size_t paren = rest.find(" (");
  if (paren == std::string_view::npos || !IsTime(rest.substr(0, paren), false)) {
    return false;
  }
  std::string_view inner = rest.substr(paren + 2);
  size_t mid = inner.find("/sec and ");
  const std::string_view tail = " ops/sec)";
  if (mid == std::string_view::npos || inner.size() < tail.size() ||
      inner.substr(inner.size() - tail.size()) != tail) {
    return false;
  }
  std::string_view rate = inner.substr(0, mid);
  size_t sp = rate.find(' ');
  static const std::set<std::string_view> kUnits{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (sp == std::string_view::npos || !IsDecimal(rate.substr(0, sp)) ||
      !kUnits.count(rate.substr(sp + 1))) {
    return false;
  }
  std::string_view per_sec = inner.substr(mid + 9, inner.size() - tail.size() - mid - 9);
  if (!IsDecimal(per_sec, per_sec == "inf" ? -1 : 4)) {
    return false;
  }
  bytes = line.substr(0, comma);
  return true;
}

// -C: "<total>,<ops>,<H:MM:SS.ss>,<bytes/s>,<ops/s>" -> "<total>".
bool MatchTerse(const std::string& line, std::string& total) {
  std::vector<std::string_view> f;
  std::string_view v(line);
  for (size_t p; (p = v.find(',')) != std::string_view::npos; v.remove_prefix(p + 1)) {
    f.push_back(v.substr(0, p));
  }
  f.push_back(v);
  if (f.size() != 5 || !AllDigits(f[0]) || !AllDigits(f[1]) || !IsTime(f[2], true) ||
      !IsDecimal(f[3], f[3] == "inf" ? -1 : 3) || !IsDecimal(f[4], f[4] == "inf" ? -1 : 3)) {
    return false;
  }
  total = std::string(f[0]);
  return true;
}

// "[zbl-io> ]*zbl-io: [can't open[ device PATH]: ]<detail>", except qemu-io's own fixed text.
bool MatchDetail(const std::string& line, std::string& kept) {
  size_t i = 0;
  while (line.compare(i, 8, "zbl-io> ") == 0) {
    i += 8;
  }
  if (line.compare(i, 8, "zbl-io: ") != 0) {
    return false;
  }
  i += 8;
  // qemu-io's own fixed message, kept as it is.
  if (line.compare(i, std::string::npos, "file open already, try 'help close'") == 0) {
    return false;
  }
  if (line.compare(i, 10, "can't open") == 0) {
    size_t colon = line.find(": ", i);
    if (colon != std::string::npos) {
      i = colon + 2;
    }
  }
  kept = line.substr(0, i) + "<detail>";
  return true;
}

// Normalises the lines whose text varies from run to run (see the file comment).
std::string Normalise(const std::string& text) {
  std::istringstream in(text);
  std::string out, line, kept;
  bool ends_with_newline = !text.empty() && text.back() == '\n';
  while (std::getline(in, line)) {
    if (MatchRate(line, kept)) {
      line = kept + ", X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)";
    } else if (MatchTerse(line, kept)) {
      line = kept + ",X,XX:XX:XX.XX,XXX,XXX";
    } else if (MatchDetail(line, kept)) {
      line = kept;
    }
    out += line + "\n";
  }
  if (!ends_with_newline && !out.empty()) {
    out.pop_back();
  }
  return out;
}

std::vector<std::string> ScriptNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(ZBL_IO_TESTDATA)) {
    if (e.path().extension() == ".in") {
      names.push_back(e.path().stem().string());
    }
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

INSTANTIATE_TEST_SUITE_P(Scripts, Golden, ::testing::ValuesIn(ScriptNames()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
