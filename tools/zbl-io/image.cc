#include "image.h"

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

// ",file.cache.direct=on" for every file/host_device node that does not set it already.
void NoCacheKeys(const Options& o, const std::string& prefix, std::string& out) {
  if (IsFileNode(o)) {
    const Options* cache = o.Child("cache");
    if (cache == nullptr || !cache->Has("direct")) {
      out += "," + prefix + "cache.direct=on";
    }
  }
  for (const std::string& name : o.ChildNames()) {
    if (name == "cache") {
      continue;
    }
    NoCacheKeys(*o.Child(name), prefix + name + ".", out);
  }
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
  } else if (a.format.empty() || a.format == "file" || a.format == "host_device") {
    s = "driver=" + (a.format.empty() ? std::string("file") : a.format) +
        ",filename=" + EscapeValue(a.image);
  } else if (a.format == "raw") {
    s = "driver=raw,file.driver=file,file.filename=" + EscapeValue(a.image);
  } else {
    return Error(EINVAL,
                 "unsupported format '{}' (zbl-io opens raw images: -f raw or -f file; "
                 "use --image-opts for zbl drivers)",
                 a.format);
  }
  if (!a.nocache) {
    return s;
  }
  auto opts = Options::Parse(s);
  if (!opts.ok()) {
    return opts.status();
  }
  NoCacheKeys(*opts, "", s);
  return s;
}

}  // namespace zbl::io

namespace zbl::io {

Result<std::unique_ptr<Backend>> OpenImage(const ImageArgs& a) {
  auto opts = BuildOptionString(a);
  if (!opts.ok()) {
    return opts.status();
  }
  auto b = Backend::Open(*opts);
  if (!b.ok()) {
    const bool named = !a.image_opts && !a.image.empty();
    return Error(b.status().code(), "can't open{}: {}", named ? " device " + a.image : "",
                 b.status().ToString());
  }
  return std::move(*b);
}

}  // namespace zbl::io
