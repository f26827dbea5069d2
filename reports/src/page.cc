#include "page.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "zbl_report_assets.h"

namespace zbl::report {

namespace {

constexpr const char* kDebianChartJs = "/usr/share/javascript/chart.js/chart.min.js";

// Replaces every case-insensitive occurrence of `needle` ("</tag") with `replacement`.
std::string ReplaceCloseTag(std::string_view text, std::string_view needle,
                            std::string_view replacement) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool match = text.size() - i >= needle.size() &&
                 std::equal(needle.begin(), needle.end(), text.begin() + i, [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) ==
                          std::tolower(static_cast<unsigned char>(b));
                 });
    if (match) {
      out += replacement;
      out.append(text.substr(i + 2, needle.size() - 2));  // keep the tag name's case
      i += needle.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    return std::nullopt;
  }
  return text.str();
}

struct Slot {
  std::string_view marker;
  std::string value;
};

}  // namespace

PageAssets EmbeddedAssets() {
  // history.js (the results database's sections) registers itself before report.js draws, which
  // waits for DOMContentLoaded; one script element holds both.
  static const std::string js =
      std::string(assets::kReportJs) + "\n" + std::string(assets::kHistoryJs);
  return {assets::kTemplateHtml, assets::kReportCss, js, assets::kChartJs};
}

std::optional<std::string> LoadChartJs(const std::string& path, std::string& origin,
                                       std::string& error) {
  if (!path.empty()) {
    auto text = ReadFile(path);
    if (!text) {
      error = fmt::format("cannot read Chart.js from {}", path);
    }
    origin = path;
    return text;
  }
  if (auto text = ReadFile(kDebianChartJs)) {
    origin = kDebianChartJs;
    return text;
  }
  if (!assets::kChartJs.empty()) {
    origin = "copy embedded at build time";
    return std::string(assets::kChartJs);
  }
  return std::nullopt;
}

std::string EmbedJson(const nlohmann::json& model) {
  // Invalid UTF-8 in a result (a binary dump in a failure message) must not abort the page.
  std::string text = model.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeScript(std::string_view js) {
  std::string out = ReplaceCloseTag(js, "</script", "<\\/");
  // "<!--" would start HTML's "script data escaped" state; "<\!--" reads the same in JS text.
  for (size_t at = out.find("<!--"); at != std::string::npos; at = out.find("<!--", at + 2)) {
    out.insert(at + 1, "\\");
  }
  return out;
}

std::string EscapeStyle(std::string_view css) { return ReplaceCloseTag(css, "</style", "<\\/"); }

std::string RenderPage(const nlohmann::json& model, const PageAssets& assets) {
  std::array<Slot, 4> slots = {{{"{{ZBL_CSS}}", EscapeStyle(assets.css)},
                                {"{{ZBL_CHARTJS}}", EscapeScript(assets.chartjs)},
                                {"{{ZBL_JS}}", EscapeScript(assets.js)},
                                {"{{ZBL_MODEL}}", EmbedJson(model)}}};
  std::string_view html = assets.html;
  for (const Slot& s : slots) {
    size_t at = html.find(s.marker);
    if (at == std::string_view::npos || html.find(s.marker, at + 1) != std::string_view::npos) {
      throw std::runtime_error(fmt::format("template needs exactly one {}", s.marker));
    }
  }
  // Cut the template at the markers and splice, so inserted text is never searched again.
  std::string out;
  size_t pos = 0;
  while (pos < html.size()) {
    const Slot* next = nullptr;
    size_t next_at = std::string_view::npos;
    for (const Slot& s : slots) {
      size_t at = html.find(s.marker, pos);
      if (at < next_at) {
        next_at = at;
        next = &s;
      }
    }
    out.append(html.substr(pos, next_at - pos));
    if (!next) {
      break;
    }
    out += next->value;
    pos = next_at + next->marker.size();
  }
  return out;
}

}  // namespace zbl::report
