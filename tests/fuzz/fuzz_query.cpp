// The query language: parse_query / parse_condition / compile_query on arbitrary text.
// Invariants: the only failure is hub_error 400000 (GenericBadRequest, "The query is invalid...");
// a query that parses prints (ast::to_text) to text that parses again to the same printed form;
// a compiled query runs over a few twins without failing otherwise than with a hub_error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/document_source.hpp"
#include "mock_hub/core/query/parser.hpp"

namespace query = mockhub::core::query;
using mockhub::core::hub_error;
using nlohmann::json;

namespace {

const query::map_document_source::map_type& twins() {
  static const query::map_document_source::map_type docs = [] {
    query::map_document_source::map_type d;
    d["lock-1"] = json::parse(R"({"deviceId":"lock-1","status":"enabled","connectionState":"Connected","version":4,
      "tags":{"building":43,"floor":3,"location":{"region":"US"},"list":[1,"a",null]},
      "properties":{"desired":{"locked":true,"$version":2},"reported":{"locked":false,"temp":-0.5,"$version":3}}})");
    d["lock-2"] = json::parse(R"({"deviceId":"lock-2","status":"disabled","connectionState":"Disconnected","version":2,
      "tags":{"building":"43","floor":1e300},"properties":{"desired":{"$version":1},"reported":{"$version":1}}})");
    d["lock-3"] = json::parse(R"({"deviceId":"lock-3","status":"enabled","version":2,
      "properties":{"desired":{"$version":1},"reported":{"$version":1}}})");
    return d;
  }();
  return docs;
}

void check_error(const hub_error& e) { FUZZ_CHECK(e.code() == 400000, "a query error is 400000 GenericBadRequest"); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  try {
    const auto q = query::parse_query(text);
    const std::string printed = query::ast::to_text(q);
    std::string again;
    try {
      again = query::ast::to_text(query::parse_query(printed));
    } catch (const hub_error& e) {
      std::fprintf(stderr, "printed form does not parse: %s\n%s\n", printed.c_str(), std::string(e.message()).c_str());
      FUZZ_CHECK(false, "parse -> print -> parse");
    }
    FUZZ_CHECK(again == printed, "parse -> print -> parse prints the same text");
  } catch (const hub_error& e) {
    check_error(e);
  }

  try {
    if (const auto c = query::parse_condition(text)) {
      const std::string printed = query::ast::to_text(*c);
      const auto reparsed = query::parse_condition(printed);
      const std::string again = reparsed ? query::ast::to_text(*reparsed) : std::string("(nothing)");
      if (again != printed) std::fprintf(stderr, "printed: %s\nreprinted: %s\n", printed.c_str(), again.c_str());
      FUZZ_CHECK(again == printed, "condition print -> parse round trip");
    }
  } catch (const hub_error& e) {
    check_error(e);
  }

  try {
    const auto compiled = query::compile_query(text);
    static const query::map_document_source source(twins());
    const auto page = compiled.run(source, {.max_item_count = 2});
    (void)page;
  } catch (const hub_error& e) {
    FUZZ_CHECK(e.http_status() == 400, "a query that fails to compile or run is a 400");
  }

  try {
    const auto condition = query::compile_condition(text);
    for (const auto& [id, doc] : twins()) (void)condition.matches(doc);
  } catch (const hub_error& e) {
    FUZZ_CHECK(e.http_status() == 400, "a job condition that fails is a 400");
  }
  return 0;
}
