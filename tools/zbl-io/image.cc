#include "image.h"

#include <sys/stat.h>

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
  return a.options + ",file.driver=file,file.filename=" + EscapeValue(a.image);
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
    return Error(EINVAL,
                 "unsupported format '{}' (zbl-io opens raw images: -f raw or -f file; "
                 "use --image-opts for zbl drivers)",
                 a.format);
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

Result<std::unique_ptr<Backend>> OpenImage(const ImageArgs& a) {
  const bool named = !a.image_opts && !a.image.empty();
  const std::string where = named ? " device " + a.image : "";
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
  auto opts = BuildOptionString(a);
  if (!opts.ok()) {
    return opts.status();
  }
  auto b = Backend::Open(*opts);
  if (!b.ok()) {
    return Error(b.status().code(), "can't open{}: {}", where, b.status().ToString());
  }
  return std::move(*b);
}

}  // namespace zbl::io
