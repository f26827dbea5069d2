// From zbl-io's command line (IMAGE, --image-opts, -f, -n) to a zbl option string.
#pragma once

#include <string>

#include "zbl/status.h"

namespace zbl::io {

struct ImageArgs {
  std::string image;        // a path, or an option string with image_opts
  bool image_opts = false;  // --image-opts
  std::string format;       // -f: "" (= file), "file", "host_device" or "raw"
  bool nocache = false;     // -n: cache.direct=on on every file/host_device node
};

// The option string to open, or EINVAL naming what is wrong (a format zbl cannot open,
// --image-opts together with -f, an option string that does not parse).
Result<std::string> BuildOptionString(const ImageArgs& args);

}  // namespace zbl::io
