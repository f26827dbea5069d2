#include "image.h"

#include "zbl/options.h"

namespace zbl::io {
namespace {

std::string EscapeValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
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
    if (cache == nullptr || !cache->Has("direct")) out += "," + prefix + "cache.direct=on";
  }
  for (const std::string& name : o.ChildNames()) {
    if (name == "cache") continue;
    NoCacheKeys(*o.Child(name), prefix + name + ".", out);
  }
}

}  // namespace

Result<std::string> BuildOptionString(const ImageArgs& a) {
  std::string s;
  if (a.image_opts) {
    if (!a.format.empty()) return Error(EINVAL, "--image-opts and -f are mutually exclusive");
    s = a.image;
  } else if (a.format.empty() || a.format == "file" || a.format == "host_device") {
    s = "driver=" + (a.format.empty() ? std::string("file") : a.format) +
        ",filename=" + EscapeValue(a.image);
  } else if (a.format == "raw") {
    s = "driver=raw,file.driver=file,file.filename=" + EscapeValue(a.image);
  } else {
    return Error(EINVAL, "unsupported format '{}' (zbl-io opens raw images: -f raw or -f file; "
                 "use --image-opts for zbl drivers)", a.format);
  }
  if (!a.nocache) return s;
  auto opts = Options::Parse(s);
  if (!opts.ok()) return opts.status();
  NoCacheKeys(*opts, "", s);
  return s;
}

}  // namespace zbl::io
