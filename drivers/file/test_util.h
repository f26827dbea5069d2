// Test helpers shared by the file, raw and persist tests: temp dirs and loop devices.
#pragma once

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace zbl::testing {

// A directory removed with its contents at destruction.
class TempDir {
 public:
  explicit TempDir(const char* base = nullptr) {
    std::string tmpl = std::string(base ? base : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp")) +
                       "/zbl-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string RunCapture(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, f)) out += buf;
  if (pclose(f) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A loop device over a temp file of `size` bytes; empty path() with a reason when unavailable.
class LoopDevice {
 public:
  LoopDevice(const std::string& backing, uint64_t size) {
    if (geteuid() != 0) {
      reason_ = "needs root to attach a loop device";
      return;
    }
    if (access("/dev/loop-control", F_OK) != 0) {
      reason_ = "no /dev/loop-control (loop devices unavailable)";
      return;
    }
    if (truncate(backing.c_str(), static_cast<off_t>(size)) != 0) {
      FILE* f = fopen(backing.c_str(), "w");
      if (f) fclose(f);
      if (truncate(backing.c_str(), static_cast<off_t>(size)) != 0) {
        reason_ = "cannot size the loop device's backing file";
        return;
      }
    }
    dev_ = RunCapture("losetup -f --show '" + backing + "' 2>/dev/null");
    if (dev_.empty()) reason_ = "losetup -f --show failed (no free loop device?)";
  }
  ~LoopDevice() {
    if (!dev_.empty()) RunCapture("losetup -d '" + dev_ + "' 2>/dev/null");
  }
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  const std::string& path() const { return dev_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string dev_;
  std::string reason_;
};

}  // namespace zbl::testing
