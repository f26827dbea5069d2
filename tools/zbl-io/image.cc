#include "image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "zbl/options.h"

namespace zbl::io {
namespace {

std::string EscapeValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') {
      out += ',';
    }
  }
  return out;
}

bool IsFileNode(const Options& o) {
  auto d = o.GetString("driver", "");
  return d.ok() && (*d == "file" || *d == "host_device");
}

// The command line's keys (",file.cache.direct=on", read-only, aio) for every file/host_device
// node that does not set them already.
void LeafKeys(const Options& o, const ImageArgs& a, const std::string& prefix, std::string& out) {
  if (IsFileNode(o)) {
    const Options* cache = o.Child("cache");
    if (a.nocache && (cache == nullptr || !cache->Has("direct"))) {
      out += "," + prefix + "cache.direct=on";
    }
    if (a.read_only && !o.Has("read-only")) {
      out += "," + prefix + "read-only=on";
    }
    if (!a.aio.empty() && !o.Has("aio")) {
      // zbl's file driver has io_uring and threads; Linux AIO ("native") is its io_uring.
      out += "," + prefix + "aio=" + (a.aio == "native" ? std::string("io_uring") : a.aio);
    }
  }
  for (const std::string& name : o.ChildNames()) {
    if (name == "cache") {
      continue;
    }
    LeafKeys(*o.Child(name), a, prefix + name + ".", out);
  }
}

// qemu picks host_device for a block device path and file otherwise.
std::string LeafDriver(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    return "host_device";
  }
  return "file";
}

}  // namespace

// `open -o OPTIONS [PATH]`: the options name the root node; PATH becomes its (or, under a
// format driver, its file child's) filename, as QEMU's blk_new_open does with a filename.
Result<std::string> WithOpenOptions(const ImageArgs& a) {
  auto o = Options::Parse(a.options);
  if (!o.ok()) {
    return o.status();
  }
  if (a.image.empty()) {
    return a.options;
  }
  auto driver = o->GetString("driver", "");
  if (!driver.ok()) {
    return driver.status();
  }
  if (driver->empty()) {
    return "driver=file,filename=" + EscapeValue(a.image) + "," + a.options;
  }
  if (*driver == "file" || *driver == "host_device") {
    return a.options + ",filename=" + EscapeValue(a.image);
  }
  // The file child's driver as the options name it (file.driver=...), else file.
  const Options* child = o->Child("file");
  const bool child_driver = child != nullptr && child->Has("driver");
  return a.options + (child_driver ? "" : ",file.driver=file") + ",file.filename=" +
         EscapeValue(a.image);
}

Result<std::string> BuildOptionString(const ImageArgs& a) {
  std::string s;
  if (!a.options.empty()) {
    if (a.image_opts) {
      return Error(EINVAL, "--image-opts and 'open -o' are mutually exclusive");
    }
    auto w = WithOpenOptions(a);
    if (!w.ok()) {
      return w.status();
    }
    s = *w;
  } else if (a.image_opts) {
    if (!a.format.empty()) {
      return Error(EINVAL, "--image-opts and -f are mutually exclusive");
    }
    s = a.image;
  } else if (a.format == "file" || a.format == "host_device") {
    s = "driver=" + a.format + ",filename=" + EscapeValue(a.image);
  } else if (a.format.empty() || a.format == "raw") {
    s = "driver=raw,file.driver=" + LeafDriver(a.image) + ",file.filename=" + EscapeValue(a.image);
  } else {
    // zbl has raw images only (and zbl drivers through --image-opts); QEMU's own word for a
    // format it has no driver for.
    return Error(EINVAL, "Unknown driver '{}'", a.format);
  }
  if (!a.nocache && !a.read_only && a.aio.empty()) {
    return s;
  }
  auto opts = Options::Parse(s);
  if (!opts.ok()) {
    return opts.status();
  }
  LeafKeys(*opts, a, "", s);
  return s;
}

std::optional<CacheMode> ParseCacheMode(std::string_view mode) {
  if (mode == "none" || mode == "off" || mode == "directsync") {
    return CacheMode{true};
  }
  if (mode == "writeback" || mode == "writethrough" || mode == "unsafe") {
    return CacheMode{false};
  }
  return std::nullopt;
}

bool IsAioMode(std::string_view mode) {
  return mode == "threads" || mode == "native" || mode == "io_uring";
}

bool IsDiscardMode(std::string_view mode) {
  return mode == "ignore" || mode == "off" || mode == "unmap" || mode == "on";
}

void WarnProbedRaw(std::ostream& err, const std::string& path) {
  err << "WARNING: Image format was not specified for '" << path
      << "' and probing guessed raw.\n"
         "         Automatically detecting the format is dangerous for raw images, write "
         "operations on block 0 will be restricted.\n"
         "         Specify the 'raw' format explicitly to remove the restrictions.\n";
}

}  // namespace zbl::io

namespace zbl::io {

uint64_t DirectIoAlignment(const std::string& path) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t max_align = std::max<uint64_t>(4096, page);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    return 1;
  }
  void* buf = nullptr;
  uint64_t found = max_align;
  if (posix_memalign(&buf, max_align, max_align) == 0) {
    for (uint64_t align : {uint64_t{1}, uint64_t{512}, uint64_t{1024}, uint64_t{2048},
                           uint64_t{4096}}) {
      if (pread(fd, buf, align, 0) >= 0) {
        found = align == 1 ? max_align : align;
        break;
      }
    }
    std::free(buf);
  }
  ::close(fd);
  return found;
}

namespace {

// The filenames of the `file` nodes of `o` opened with cache.direct=on and writable, in the
// graphs QEMU has too (a file node at the root or under raw).
void DirectWritableFiles(const Options& o, std::vector<std::string>& out, bool any_cache,
                         std::string_view parent = "") {
  auto d = o.GetString("driver", "");
  const Options* cache = o.Child("cache");
  if (d.ok() && *d == "file" && (cache != nullptr || any_cache) &&
      (parent.empty() || parent == "raw")) {
    auto direct = any_cache ? Result<bool>(true) : cache->GetBool("direct", false);
    auto ro = o.GetBool("read-only", false);
    auto name = o.GetString("filename", "");
    if (direct.ok() && *direct && ro.ok() && (!*ro || any_cache) && name.ok() && !name->empty()) {
      out.push_back(*name);
    }
  }
  if (!d.ok() || *d != "raw") {
    return;
  }
  for (const std::string& child : o.ChildNames()) {
    if (child != "cache") {
      DirectWritableFiles(*o.Child(child), out, any_cache, *d);
    }
  }
}

// A file node's file that cannot be opened, in file-posix's words ("Could not open 'x.img': No
// such file or directory"), before zbl's driver words it its own way. Only the graphs QEMU
// has too (a file node at the root or under raw): zbl's emulated driver creates a missing
// image file for its file child.
Status FilesOpenAsQemu(const Options& o, std::string_view parent = "") {
  auto d = o.GetString("driver", "");
  if (d.ok() && (*d == "file" || *d == "host_device") && (parent.empty() || parent == "raw")) {
    auto name = o.GetString("filename", "");
    auto ro = o.GetBool("read-only", false);
    if (name.ok() && !name->empty() && ro.ok()) {
      int fd = ::open(name->c_str(), (*ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
      if (fd < 0) {
        const int e = errno;
        return Error(e, "Could not open '{}': {}", *name, std::strerror(e));
      }
      ::close(fd);
    }
  }
  if (!d.ok() || *d != "raw") {
    return Status::Ok();
  }
  for (const std::string& child : o.ChildNames()) {
    ZBL_RETURN_IF_ERROR(FilesOpenAsQemu(*o.Child(child), *d));
  }
  return Status::Ok();
}

// QEMU's raw format refuses a window size off the 512-byte sector grid in these words, before
// it looks at anything else (zbl's raw driver refuses it too, naming its child's block size).
Status RawWindowAsQemu(const Options& o) {
  auto d = o.GetString("driver", "");
  if (d.ok() && *d == "raw" && o.Has("size")) {
    auto size = o.GetSize("size", 0);
    if (size.ok() && *size % 512 != 0) {
      return Error(EINVAL, "Specified size is not multiple of 512");
    }
  }
  for (const std::string& child : o.ChildNames()) {
    ZBL_RETURN_IF_ERROR(RawWindowAsQemu(*o.Child(child)));
  }
  return Status::Ok();
}

}  // namespace

Status CheckDirectWrite(const std::string& options, uint64_t as_direct) {
  std::vector<std::string> direct;
  if (auto o = Options::Parse(options); o.ok()) {
    DirectWritableFiles(*o, direct, as_direct != 0);
  }
  for (const std::string& path : direct) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) % (as_direct ? as_direct : DirectIoAlignment(path)) !=
            0) {
      return Error(EINVAL,
                   "Cannot get 'write' permission without 'resize': Image size is not a "
                   "multiple of request alignment");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Backend>> OpenImage(const ImageArgs& a, bool check_write) {
  const bool named = !a.image_opts && !a.image.empty();
  const std::string where = named ? " device " + a.image : "";
  auto opts = BuildOptionString(a);
  // An unknown format is refused before the option combinations (QEMU looks the driver up
  // first).
  if (!opts.ok() && a.options.empty() && !a.image_opts &&
      opts.status().message().rfind("Unknown driver", 0) == 0) {
    return Error(opts.status().code(), "can't open{}: {}", where, opts.status().message());
  }
  // qemu's own refusals of option combinations, in its words.
  if (a.aio == "native" && !a.nocache) {
    return Error(EINVAL,
                 "can't open{}: aio=native was specified, but it requires cache.direct=on, which "
                 "was not specified.",
                 where);
  }
  if (a.force_share && !a.read_only) {
    return Error(EINVAL, "can't open{}: force-share=on can only be used with read-only images",
                 where);
  }
  if (!opts.ok()) {
    return opts.status();
  }
  if (auto o = Options::Parse(*opts); o.ok()) {
    if (Status st = RawWindowAsQemu(*o); !st.ok()) {
      return Error(st.code(), "can't open{}: {}", where, st.message());
    }
    if (Status st = FilesOpenAsQemu(*o); !st.ok()) {
      return Error(st.code(), "can't open{}: {}", where, st.message());
    }
  }
  auto b = Backend::Open(*opts);
  if (!b.ok()) {
    return Error(b.status().code(), "can't open{}: {}", where, b.status().ToString());
  }
  if (check_write) {
    if (Status st = CheckDirectWrite(*opts, 0); !st.ok()) {
      return Error(st.code(), "can't open{}: {}", where, st.message());
    }
  }
  return std::move(*b);
}

}  // namespace zbl::io
