// Page assembly: the static template with the stylesheet, the scripts and the model inserted
// into its placeholders. Nothing else is generated here; the page renders itself from the model.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace zbl::report {

struct PageAssets {
  std::string_view html;     // reports/template.html
  std::string_view css;      // reports/report.css
  std::string_view js;       // reports/report.js
  std::string_view chartjs;  // Chart.js (UMD build); empty = the page says charts are missing
};

// The assets compiled into the binary from reports/ (template, css, js). The Chart.js copy
// found at build time, if any, is in `chartjs` (see LoadChartJs for the one used at run time).
PageAssets EmbeddedAssets();

// Chart.js for the page: `path` if given (an error if unreadable), else the Debian package's
// file, else the copy embedded at build time; nullopt when none is available. `origin` says
// which one was used.
std::optional<std::string> LoadChartJs(const std::string& path, std::string& origin,
                                       std::string& error);

// Serializes the model for a <script type="application/json"> block. Every '<' is written as
// \u003c, so no string in the results can close the script element or open a comment.
std::string EmbedJson(const nlohmann::json& model);

// Makes script text safe inside <script>...</script>: "</script" (any case) becomes "<\/script",
// which means the same inside JavaScript strings and regular expressions, where it can occur.
std::string EscapeScript(std::string_view js);

// Makes CSS safe inside <style>: "</style" becomes "<\/style".
std::string EscapeStyle(std::string_view css);

// Fills the template's placeholders ({{ZBL_CSS}}, {{ZBL_CHARTJS}}, {{ZBL_JS}}, {{ZBL_MODEL}}),
// each exactly once. Throws std::runtime_error when the template lacks one (a build defect).
std::string RenderPage(const nlohmann::json& model, const PageAssets& assets);

}  // namespace zbl::report
