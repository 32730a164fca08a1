// Parse -> print -> parse: every query prints to one canonical text, and that text parses back
// to a tree that prints the same and means the same.
#include <catch2/catch.hpp>

#include <random>

#include "mock_hub/core/query/ast.hpp"
#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/parser.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

TEST_CASE("A query prints to its canonical text, which parses back to the same text", "[core][query][ast]") {
  auto [text, canonical] = GENERATE(table<const char*, const char*>({
      {"select * from devices", "SELECT * FROM devices"},
      {"SELECT TOP 10 * FROM devices WHERE tags.a='x'", "SELECT TOP 10 * FROM devices WHERE tags.a = 'x'"},
      {"SELECT * FROM devices WHERE a = 1 AND (b = 2 OR c = 3)", "SELECT * FROM devices WHERE a = 1 AND (b = 2 OR c = 3)"},
      {"SELECT * FROM devices WHERE (a = 1 AND b = 2) OR c = 3", "SELECT * FROM devices WHERE a = 1 AND b = 2 OR c = 3"},
      {"SELECT * FROM devices WHERE NOT (a = 1)", "SELECT * FROM devices WHERE NOT a = 1"},
      {"SELECT * FROM devices WHERE NOT (a AND b)", "SELECT * FROM devices WHERE NOT (a AND b)"},
      {"SELECT * FROM devices WHERE not not a", "SELECT * FROM devices WHERE NOT NOT a"},
      {"SELECT * FROM devices WHERE a - (b - c) = 1", "SELECT * FROM devices WHERE a - (b - c) = 1"},
      {"SELECT * FROM devices WHERE (a - b) - c = 1", "SELECT * FROM devices WHERE a - b - c = 1"},
      {"SELECT * FROM devices WHERE a * (b + c) % 2 > 2", "SELECT * FROM devices WHERE a * (b + c) % 2 > 2"},
      {"SELECT * FROM devices WHERE (a = b) = c", "SELECT * FROM devices WHERE a = b = c"},
      {"SELECT * FROM devices WHERE a = (b = c)", "SELECT * FROM devices WHERE a = (b = c)"},
      {"SELECT * FROM devices WHERE -a = -1 AND b = - -2 AND c = +3", "SELECT * FROM devices WHERE -a = -1 AND b = 2 AND c = 3"},
      {"SELECT * FROM devices WHERE -(a + 1) = 2 AND a - -1 = 0", "SELECT * FROM devices WHERE -(a + 1) = 2 AND a - -1 = 0"},
      {"SELECT * FROM devices WHERE a <> 1", "SELECT * FROM devices WHERE a != 1"},
      {"SELECT * FROM devices WHERE a IN ['x', \"y\"]", "SELECT * FROM devices WHERE a IN ['x', 'y']"},
      {"SELECT * FROM devices WHERE (a + 1) IN [2]", "SELECT * FROM devices WHERE a + 1 IN [2]"},
      {"SELECT * FROM devices WHERE (a = 1) IN [true]", "SELECT * FROM devices WHERE (a = 1) IN [true]"},
      {"SELECT * FROM devices WHERE a NIN [1,2.5,-3,0x10, 0XfF, true, null, [1,[]], []]",
       "SELECT * FROM devices WHERE a NIN [1, 2.5, -3, 16, 255, true, null, [1, []], []]"},
      {"SELECT * FROM devices WHERE a = 1e3 OR a = 2.5E-7 OR a = 0.1 OR a = 9223372036854775808",
       "SELECT * FROM devices WHERE a = 1000 OR a = 2.5e-07 OR a = 0.1 OR a = 9223372036854775808"},
      {"SELECT * FROM devices WHERE a = 'it\\'s' OR a = \"say \\\"hi\\\"\" OR a = '\\\\' OR a = '\\u00e9\\uD83D\\uDE00'",
       "SELECT * FROM devices WHERE a = 'it\\'s' OR a = 'say \"hi\"' OR a = '\\\\' OR a = '\xC3\xA9\xF0\x9F\x98\x80'"},
      {"SELECT * FROM devices WHERE a = undefined OR a = NULL OR a = TRUE", "SELECT * FROM devices WHERE a = undefined OR a = null OR a = true"},
      {"SELECT * FROM devices WHERE is_defined(a) and startswith(a,'x') and EndsWith(a, 'y')",
       "SELECT * FROM devices WHERE IS_DEFINED(a) AND STARTSWITH(a, 'x') AND ENDSWITH(a, 'y')"},
      {"SELECT * FROM devices WHERE tags.[[group]].name = 1 AND tags.[[my key]] = 2 AND tags.[[plain]] = 3",
       "SELECT * FROM devices WHERE tags.[[group]].name = 1 AND tags.[[my key]] = 2 AND tags.plain = 3"},
      {"select deviceId as id, count() as n, avg(tags.x), min(tags.x) from devices group by deviceId, tags.y",
       "SELECT deviceId AS id, COUNT() AS n, AVG(tags.x), MIN(tags.x) FROM devices GROUP BY deviceId, tags.y"},
      {"SELECT x AS [[select]], y AS [[a b]] FROM devices", "SELECT x AS [[select]], y AS [[a b]] FROM devices"},
      {"SELECT * FROM devices.jobs where devices.jobs.status = 'completed'",
       "SELECT * FROM devices.jobs WHERE devices.jobs.status = 'completed'"},
      {"SELECT * FROM Devices.Modules", "SELECT * FROM devices.modules"},
      {"SELECT\n\t*\r\nFROM   devices\nWHERE\ttags.a\n=\n1", "SELECT * FROM devices WHERE tags.a = 1"},
      // Found by fuzz_query (corpus crash-84217c3f): -0.0 printed as "-0" read back as the integer 0.
      {"SELECT * FROM devices WHERE S = 'x'AND tags.a.b != -0.0e3",
       "SELECT * FROM devices WHERE S = 'x' AND tags.a.b != -0.0"},
      {"SELECT * FROM devices WHERE a = -0 OR a = 0.0", "SELECT * FROM devices WHERE a = 0 OR a = 0"},
  }));
  CAPTURE(text);
  const std::string printed = ast::to_text(parse_query(text));
  CHECK(printed == canonical);
  CHECK(ast::to_text(parse_query(printed)) == printed);
}

TEST_CASE("Compiling canonicalizes paths: hub names take their wire spelling", "[core][query][ast]") {
  auto [text, canonical] = GENERATE(table<const char*, const char*>({
      {"select DeviceID, LastActivityTime from devices where devices.Tags.x = 1 and Properties.Reported.y = 2",
       "SELECT deviceId, lastActivityTime FROM devices WHERE tags.x = 1 AND properties.reported.y = 2"},
      {"select * from devices where CAPABILITIES.IOTEDGE = true and X509THUMBPRINT.primarythumbprint = null",
       "SELECT * FROM devices WHERE capabilities.iotEdge = true AND x509Thumbprint.primaryThumbprint = null"},
      {"select * from devices where tags.DeviceId = 1", "SELECT * FROM devices WHERE tags.DeviceId = 1"},
      {"select * from devices.jobs where DEVICES.JOBS.createdTimeUtc > '2016' and devices.jobs.JobId = 'j'",
       "SELECT * FROM devices.jobs WHERE devices.jobs.createdDateTimeUtc > '2016' AND devices.jobs.jobId = 'j'"},
      {"select * from devices.jobs where devices.jobs.Outcome.DeviceMethodResponse.Payload.X = 1",
       "SELECT * FROM devices.jobs WHERE devices.jobs.outcome.deviceMethodResponse.payload.X = 1"},
  }));
  CAPTURE(text);
  const compiled_query q = compile_query(text);
  CHECK(q.canonical_text() == canonical);
  CHECK(compile_query(q.canonical_text()).canonical_text() == canonical);
}

namespace {

// Random conditions over tags.v, printed fully parenthesized, so the canonical printer's
// minimal parentheses are checked against a text whose grouping is explicit.
class random_condition {
 public:
  explicit random_condition(unsigned seed) : rng_(seed) {}

  std::string logical(int depth) {
    switch (pick(depth <= 0 ? 2 : 5)) {
      case 0: return comparison(depth);
      case 1: return "IS_DEFINED(" + operand(depth) + ")";
      case 2: return "(" + logical(depth - 1) + (pick(2) ? " AND " : " OR ") + logical(depth - 1) + ")";
      case 3: return "(NOT " + logical(depth - 1) + ")";
      default: return "(" + operand(depth) + (pick(2) ? " IN " : " NIN ") + "[1, 'b', null, 2.5])";
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string comparison(int depth) {
    static const char* ops[] = {" = ", " != ", " < ", " > ", " <= ", " >= "};
    return "(" + operand(depth) + ops[pick(6)] + operand(depth) + ")";
  }

  std::string operand(int depth) {
    static const char* leaves[] = {"tags.v", "1", "-1", "0.5", "'1'", "'b'", "true", "null", "undefined", "tags.missing"};
    if (depth <= 0 || pick(3) == 0) return leaves[pick(10)];
    static const char* ops[] = {" + ", " - ", " * ", " / ", " % "};
    if (pick(5) == 0) return "(-" + operand(depth - 1) + ")";
    return "(" + operand(depth - 1) + ops[pick(5)] + operand(depth - 1) + ")";
  }

  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("Random conditions keep their text and their meaning through print and parse", "[core][query][ast]") {
  const json values = json::parse(R"([1, 1.5, 2, "1", "b", true, false, null, [1], {"a": 1}, -1, 0.5, 0])");
  std::vector<json> twins;
  for (const auto& v : values) {
    json t = twin("d");
    t["tags"]["v"] = v;
    twins.push_back(std::move(t));
  }
  twins.push_back(twin("undef"));

  random_condition gen(20260101);
  for (int i = 0; i < 400; ++i) {
    const std::string original = gen.logical(4);
    CAPTURE(original);
    const compiled_condition a = compile_condition(original);
    const std::string canonical = a.canonical_text();
    const compiled_condition b = compile_condition(canonical);
    CHECK(b.canonical_text() == canonical);
    for (const auto& t : twins) {
      CAPTURE(canonical, t["tags"].dump());
      CHECK(a.matches(t) == b.matches(t));
    }
  }
}
