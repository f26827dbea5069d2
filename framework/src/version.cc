#include "zbl/version.h"

namespace zbl {

std::string_view Version() { return ZBL_VERSION; }
std::string_view Commit() { return ZBL_COMMIT; }

}  // namespace zbl
