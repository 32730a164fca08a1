// What the hub refuses, with its status, error code and a message naming the problem: the
// hub's "The query is invalid..." text [Obs azure-docs#110329], then where and what.
#include <catch2/catch.hpp>

#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/continuation_token.hpp"
#include "mock_hub/core/query/parser.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core;
using namespace mockhub::core::query;
using namespace query_fixtures;

namespace {

constexpr std::string_view invalid = "The query is invalid. Please check the format of the query and try again. ";

template <class F>
hub_error error_of(F&& f) {
  try {
    f();
  } catch (const hub_error& e) {
    return e;
  }
  FAIL("no hub_error was thrown");
  throw;  // unreachable
}

void check_invalid_query(const hub_error& e, const std::string& detail) {
  CHECK(e.http_status() == 400);
  CHECK(e.code() == 400000);
  CHECK(e.name() == "GenericBadRequest");
  CHECK(std::string(e.message()) == std::string(invalid) + detail);
}

}  // namespace

TEST_CASE("Syntax errors name the line, the column and what was expected", "[core][query][errors]") {
  auto [query, detail] = GENERATE(table<const char*, const char*>({
      {"", "Syntax error at line 1, column 1: expected 'SELECT' but found end of query"},
      {"SELECT * FORM devices", "Syntax error at line 1, column 10: expected 'FROM' but found 'FORM'"},
      {"SELECT * FROM devices WHERE", "Syntax error at line 1, column 28: expected an expression but found end of query"},
      {"SELECT * FROM devices WHERE tags.a =", "Syntax error at line 1, column 37: expected an expression but found end of query"},
      {"SELECT * FROM devices WHERE tags.a == 1", "Syntax error at line 1, column 37: expected an expression but found '='"},
      {"SELECT * FROM devices WHERE tags.a = 'x", "Syntax error at line 1, column 38: the string is not closed"},
      {"SELECT * FROM devices WHERE (tags.a = 1", "Syntax error at line 1, column 40: expected ')' but found end of query"},
      {"SELECT * FROM devices WHERE tags.a = 1;", "Syntax error at line 1, column 39: unexpected character ';'"},
      {"SELECT *\nFROM devices\nWHERE tags.a = = 1", "Syntax error at line 3, column 16: expected an expression but found '='"},
      // SQL's IN (...) is not the hub's IN [...] [MicrosoftDocs/azure-docs PR #16283].
      {"SELECT * FROM devices WHERE tags.a IN ('a', 'b')",
       "Syntax error at line 1, column 39: expected an array constant such as ['a', 'b'] after IN/NIN but found '('"},
      // Only the devices collections exist [Azure/remote-monitoring-services-dotnet#74 used FROM c].
      {"SELECT * FROM c WHERE deviceId IN ['a']",
       "Syntax error at line 1, column 15: expected 'devices', 'devices.modules' or 'devices.jobs' but found 'c'"},
      {"SELECT * FROM devices.module", "Syntax error at line 1, column 23: expected 'modules' or 'jobs' after 'devices.' but found 'module'"},
      // `group` is a keyword: a property of that name is written [[group]] [Doc query language, GROUP BY caution].
      {"SELECT * FROM devices WHERE tags.group.name = 'x'",
       "Syntax error at line 1, column 34: 'group' is a keyword; write the property name as [[group]]"},
      {"SELECT * FROM devices WHERE tags.[[group.name = 'x'", "Syntax error at line 1, column 34: a name in [[ ]] is not closed with ]]"},
      {"SELECT * FROM devices WHERE tags.a = 'x\\n'",
       "Syntax error at line 1, column 40: invalid escape; a string allows only \\', \\\", \\\\ and \\uXXXX"},
      {"SELECT * FROM devices WHERE tags.a = '\\u12'", "Syntax error at line 1, column 39: \\u must be followed by four hexadecimal digits"},
      {"SELECT * FROM devices WHERE tags.a = '\\uD800'",
       "Syntax error at line 1, column 39: a \\u high surrogate must be followed by a \\u low surrogate"},
      {"SELECT * FROM devices WHERE tags.a = 0x", "Syntax error at line 1, column 38: a hexadecimal number needs digits after 0x"},
      {"SELECT * FROM devices WHERE tags.a = 12ab", "Syntax error at line 1, column 38: malformed number '12a'"},
      {"SELECT * FROM devices WHERE tags.a = 1e", "Syntax error at line 1, column 38: a number's exponent needs digits"},
      {"SELECT * FROM devices WHERE tags.a ! 1", "Syntax error at line 1, column 36: unexpected character '!' (did you mean '!='?)"},
      {"SELECT * FROM devices ORDER BY deviceId",
       "Syntax error at line 1, column 23: expected WHERE, GROUP BY or the end of the query but found 'ORDER'"},
      {"SELECT * FROM devices WHERE deviceId NOT IN ['a']",
       "Syntax error at line 1, column 38: expected GROUP BY or the end of the query but found 'NOT'"},
      {"SELECT TOP x * FROM devices", "Syntax error at line 1, column 12: expected a whole number after TOP but found 'x'"},
      {"SELECT TOP 1.5 * FROM devices", "Syntax error at line 1, column 12: expected a whole number after TOP but found number 1.5"},
      {"SELECT FROM devices",
       "Syntax error at line 1, column 8: expected '*', a property path or an aggregate such as COUNT() but found 'FROM'"},
      {"SELECT deviceId AS FROM devices", "Syntax error at line 1, column 20: expected an alias after AS but found 'FROM'"},
      {"SELECT * FROM devices GROUP deviceId", "Syntax error at line 1, column 29: expected 'BY' but found 'deviceId'"},
      {"SELECT * FROM devices WHERE tags.a IN [tags.b]",
       "Syntax error at line 1, column 40: expected a constant (a string, a number, true, false, null or an array) but found 'tags'"},
      {"SELECT * FROM devices WHERE tags.a = 'x' tags.b = 'y'",
       "Syntax error at line 1, column 42: expected GROUP BY or the end of the query but found 'tags'"},
      {"SELECT * FROM devices WHERE tags.\xC3\xA9 = 1", "Syntax error at line 1, column 34: unexpected character byte 0xC3"},
      {"SELECT * FROM devices WHERE '\xC3\xA9' = 1 AND =", "Syntax error at line 1, column 41: expected an expression but found '='"},
  }));
  CAPTURE(query);
  check_invalid_query(error_of([&] { compile_query(query); }), detail);
}

TEST_CASE("A query over 8192 characters is refused; 8192 characters are accepted", "[core][query][errors]") {
  const std::string head = "SELECT * FROM devices WHERE deviceId = '";
  const std::string at_limit = head + std::string(8192 - head.size() - 1, 'x') + "'";
  REQUIRE(at_limit.size() == 8192);
  CHECK_NOTHROW(compile_query(at_limit));
  check_invalid_query(error_of([&] { compile_query(at_limit + " "); }),
                      "The query is 8193 characters long; the maximum is 8192.");

  // The limit counts characters, not UTF-8 bytes.
  std::string accented = head;
  while (character_count(accented) < 8191) accented += "\xC3\xA9";
  accented += "'";
  REQUIRE(character_count(accented) == 8192);
  REQUIRE(accented.size() > 8192);
  CHECK_NOTHROW(compile_query(accented));

  // A job's queryCondition has the same limit.
  const std::string condition = "deviceId = '" + std::string(8192, 'x') + "'";
  check_invalid_query(error_of([&] { compile_condition(condition); }),
                      "The query is 8205 characters long; the maximum is 8192.");
}

TEST_CASE("Unknown functions, routing-only functions and misused aggregates are refused", "[core][query][errors]") {
  auto [query, detail] = GENERATE(table<const char*, const char*>({
      // STARTS_WITH with an underscore fails on a real hub [Obs azure-docs#110329, #105649].
      {"SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'test')",
       "The function STARTS_WITH is not supported in twin and job queries (only in message routing); twin queries "
       "support IS_DEFINED, STARTSWITH and ENDSWITH."},
      {"SELECT * FROM devices WHERE CONTAINS(deviceId, 'x')",
       "The function CONTAINS is not supported in twin and job queries (only in message routing); twin queries "
       "support IS_DEFINED, STARTSWITH and ENDSWITH."},
      {"SELECT * FROM devices WHERE lower(deviceId) = 'x'",
       "The function lower is not supported in twin and job queries (only in message routing); twin queries support "
       "IS_DEFINED, STARTSWITH and ENDSWITH."},
      // A message-routing example of the 2016 docs is not a twin query.
      {"SELECT * FROM devices WHERE messageType = 'alerts' AND as_number(severity) <= 2",
       "The function as_number is not supported in twin and job queries (only in message routing); twin queries "
       "support IS_DEFINED, STARTSWITH and ENDSWITH."},
      {"SELECT * FROM devices WHERE FOO(deviceId)",
       "Unknown function 'FOO'; twin and job queries support IS_DEFINED, STARTSWITH and ENDSWITH."},
      {"SELECT * FROM devices WHERE IS_DEFINED(tags.a, tags.b)", "The function IS_DEFINED takes 1 argument, not 2."},
      {"SELECT * FROM devices WHERE STARTSWITH(deviceId)", "The function STARTSWITH takes 2 arguments, not 1."},
      {"SELECT * FROM devices WHERE COUNT() > 1", "The aggregate COUNT() is only allowed in the SELECT clause."},
      {"SELECT IS_DEFINED(deviceId) FROM devices",
       "'IS_DEFINED' cannot be selected: a projection is a property path or one of COUNT(), AVG, SUM, MIN, MAX."},
      {"SELECT COUNT(deviceId) FROM devices", "COUNT() takes no argument."},
      {"SELECT AVG() FROM devices", "AVG takes one property path."},
      {"SELECT deviceId, COUNT() FROM devices", "'deviceId' is selected in an aggregate query but is not in GROUP BY."},
      {"SELECT * FROM devices GROUP BY status",
       "GROUP BY needs a projection list of grouped properties and aggregates, not SELECT *."},
      {"SELECT tags.a.x, tags.b.x FROM devices",
       "Two columns of the SELECT list are named 'x'; give one of them an alias with AS."},
  }));
  CAPTURE(query);
  check_invalid_query(error_of([&] { compile_query(query); }), detail);
}

TEST_CASE("devices.jobs allows SELECT * and conditions on devices.jobs.* only", "[core][query][errors]") {
  auto [query, detail] = GENERATE(table<const char*, const char*>({
      {"SELECT devices.jobs.jobId FROM devices.jobs",
       "Queries on devices.jobs support only SELECT *: projections and aggregates are not supported."},
      {"SELECT COUNT() FROM devices.jobs",
       "Queries on devices.jobs support only SELECT *: projections and aggregates are not supported."},
      {"SELECT * FROM devices.jobs GROUP BY devices.jobs.status", "Queries on devices.jobs do not support GROUP BY."},
      {"SELECT * FROM devices.jobs WHERE deviceId = 'x'",
       "A devices.jobs query can only refer to devices.jobs.<property>, not 'deviceId': conditions on the device "
       "twin are not supported."},
      {"SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'j' AND tags.site = 'lab'",
       "A devices.jobs query can only refer to devices.jobs.<property>, not 'tags.site': conditions on the device "
       "twin are not supported."},
  }));
  CAPTURE(query);
  check_invalid_query(error_of([&] { compile_query(query); }), detail);
}

TEST_CASE("A job's queryCondition is refused for what a WHERE clause is refused for", "[core][query][errors][job]") {
  auto [condition, detail] = GENERATE(table<const char*, const char*>({
      // A whole query is not a condition [Obs azure-iot-sdk-csharp#40: "Unexpected character at input 'SELECT'"].
      {"SELECT * FROM devices", "Syntax error at line 1, column 1: expected an expression but found 'SELECT'"},
      {"", "Syntax error at line 1, column 1: expected an expression but found end of query"},
      {"deviceId =", "Syntax error at line 1, column 11: expected an expression but found end of query"},
      {"deviceId = 'a' GROUP BY status",
       "Syntax error at line 1, column 16: expected an operator or the end of the condition but found 'GROUP'"},
      {"* AND deviceId = 'a'", "Syntax error at line 1, column 1: expected an expression but found '*'"},
      {"STARTS_WITH(deviceId, 'a')",
       "The function STARTS_WITH is not supported in twin and job queries (only in message routing); twin queries "
       "support IS_DEFINED, STARTSWITH and ENDSWITH."},
  }));
  CAPTURE(condition);
  check_invalid_query(error_of([&] { compile_condition(condition); }), detail);
}

TEST_CASE("Nesting deeper than 128 levels is refused, not a stack overflow", "[core][query][errors]") {
  const std::string deep = "SELECT * FROM devices WHERE " + std::string(200, '(') + "true" + std::string(200, ')');
  const hub_error e = error_of([&] { compile_query(deep); });
  CHECK(e.code() == 400000);
  CHECK_THAT(std::string(e.message()), Catch::Contains("nests more than 128 levels deep"));
  CHECK_NOTHROW(compile_query("SELECT * FROM devices WHERE " + std::string(100, '(') + "true" + std::string(100, ')')));
  const std::string nots = "SELECT * FROM devices WHERE " + [] {
    std::string s;
    for (int i = 0; i < 3000; ++i) s += "NOT ";
    return s;
  }() + "true";
  CHECK(error_of([&] { compile_query(nots); }).code() == 400000);
}

TEST_CASE("A bad continuation token is refused with 400 ArgumentInvalid", "[core][query][errors][paging]") {
  const compiled_query q = compile_query("SELECT * FROM devices");
  map_document_source source(fleet());
  const auto first = q.run(source, {.max_item_count = 2});
  REQUIRE(first.continuation);

  auto check_bad = [&](const compiled_query& query, const std::string& token, const std::string& why) {
    const hub_error e = error_of([&] { query.run(source, {.max_item_count = 2, .continuation = token}); });
    CHECK(e.http_status() == 400);
    CHECK(e.code() == 400004);
    CHECK(e.name() == "ArgumentInvalid");
    CHECK(std::string(e.message()) == "The continuation token (x-ms-continuation) is invalid: " + why +
                                          ". Send the token of the previous page of the same query, or none for "
                                          "the first page.");
  };
  check_bad(q, "not a token", "it is not one this hub issued");
  check_bad(q, "eyJ2IjoxfQ==", "it is not one this hub issued");  // {"v":1}
  check_bad(compile_query("SELECT * FROM devices WHERE status = 'enabled'"), *first.continuation,
            "it belongs to a different query");
  check_bad(q, *first.continuation + "x", "it is not one this hub issued");
  // A row-offset token (aggregates) is not a token of a plain query, and the other way round.
  continuation_token forged;
  forged.query_hash = fnv1a64(q.canonical_text());
  forged.by_offset = true;
  forged.offset = 1;
  check_bad(q, forged.encode(), "it is not one this hub issued");
  const compiled_query grouped = compile_query("SELECT status, COUNT() AS n FROM devices GROUP BY status");
  forged.query_hash = fnv1a64(grouped.canonical_text());
  forged.by_offset = false;
  forged.after_key = "eu-1";
  check_bad(grouped, forged.encode(), "it is not one this hub issued");
  // The same query written differently is the same query.
  CHECK_NOTHROW(compile_query("select *   from DEVICES").run(source, {.continuation = *first.continuation}));
}
