#include "page.h"

#include <gtest/gtest.h>

#include <regex>

namespace zbl::report {
namespace {

using nlohmann::json;

size_t Count(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// The model as the page's script will read it: the text of script#zbl-model.
json ExtractModel(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"zbl-model\">";
  size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  start += open.size();
  size_t end = page.find("</script>", start);
  return json::parse(page.substr(start, end - start));
}

TEST(EmbedJson, NoStringCanCloseTheScriptElement) {
  json model = {{"message", "</script><script>alert(1)</script> <!-- </SCRIPT"}};
  std::string text = EmbedJson(model);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(json::parse(text), model);
}

TEST(EmbedJson, InvalidUtf8DoesNotThrow) {
  json model = {{"message", std::string("bad \xff\xfe bytes")}};
  std::string text;
  EXPECT_NO_THROW(text = EmbedJson(model));
  EXPECT_NO_THROW(json::parse(text));
}

TEST(EscapeScript, ClosingTagsInAnyCaseAndCommentOpeners) {
  EXPECT_EQ(EscapeScript("a='</script>';b='</SCRIPT >'"), "a='<\\/script>';b='<\\/SCRIPT >'");
  EXPECT_EQ(EscapeScript("x='<!--'"), "x='<\\!--'");
  EXPECT_EQ(EscapeScript("plain code"), "plain code");
  EXPECT_EQ(EscapeStyle("a{}</style><b>"), "a{}<\\/style><b>");
}

TEST(EmbeddedAssets, TemplateHasEachPlaceholderOnce) {
  PageAssets a = EmbeddedAssets();
  for (const char* p : {"{{ZBL_CSS}}", "{{ZBL_CHARTJS}}", "{{ZBL_JS}}", "{{ZBL_MODEL}}"}) {
    EXPECT_EQ(Count(a.html, p), 1u) << p;
  }
  EXPECT_NE(a.html.find("id=\"zbl-model\""), std::string_view::npos);
  EXPECT_FALSE(a.css.empty());
  EXPECT_NE(a.js.find("zbl-model"), std::string_view::npos);
  EXPECT_EQ(Count(a.js, "innerHTML"), 0u);  // the page builds its DOM from text only
}

TEST(RenderPage, FillsEveryPlaceholderAndTheModelReadsBack) {
  json model = {{"schema", "zbl-report-model/1"}, {"title", "t </script> & <b>"}};
  PageAssets a = EmbeddedAssets();
  a.chartjs = "var Chart = function(){}; // </script> inside a library";
  std::string page = RenderPage(model, a);
  EXPECT_EQ(Count(page, "{{ZBL_"), 0u);
  EXPECT_EQ(ExtractModel(page), model);
  EXPECT_NE(page.find("var Chart = function(){}; // <\\/script> inside a library"),
            std::string::npos);
  // Exactly the template's own script elements close.
  EXPECT_EQ(Count(page, "</script>"), 3u);
  EXPECT_EQ(Count(page, "</style>"), 1u);
}

TEST(RenderPage, PlaceholderTextInsideTheModelIsNotReplaced) {
  json model = {{"message", "{{ZBL_JS}} and {{ZBL_CSS}}"}};
  std::string page = RenderPage(model, EmbeddedAssets());
  EXPECT_EQ(ExtractModel(page), model);
}

TEST(RenderPage, TemplateWithoutPlaceholderIsAnError) {
  PageAssets a = EmbeddedAssets();
  a.html = "<html>{{ZBL_CSS}}{{ZBL_JS}}{{ZBL_MODEL}}</html>";
  EXPECT_THROW(RenderPage(json::object(), a), std::runtime_error);
}

TEST(LoadChartJs, ExplicitPathMustExist) {
  std::string origin, error;
  EXPECT_FALSE(LoadChartJs("/nonexistent/chart.js", origin, error));
  EXPECT_NE(error.find("/nonexistent/chart.js"), std::string::npos);
}

TEST(LoadChartJs, DefaultFindsTheDebianPackageOrTheBuiltInCopy) {
  std::string origin, error;
  auto js = LoadChartJs("", origin, error);
  if (!js) GTEST_SKIP() << "libjs-chart.js was absent at build and run time";
  EXPECT_TRUE(error.empty());
  EXPECT_NE(js->find("Chart"), std::string::npos);
}

}  // namespace
}  // namespace zbl::report
