// The admin verbs' parsers and printers, in-process.
#include <catch2/catch.hpp>

#include <sstream>

#include "mock_hub/server/admin/admin_commands.hpp"
#include "mock_hub/server/admin/job_progress.hpp"
#include "mock_hub/server/admin/table.hpp"

using namespace mockhub;
using namespace mockhub::server::admin;
using nlohmann::json;

TEST_CASE("az-style --props parse (a=1 and b=2)", "[admin][unit]") {
  using props = std::map<std::string, std::string>;
  CHECK(parse_properties("") == props{});
  CHECK(parse_properties("a=1;b=2") == props{{"a", "1"}, {"b", "2"}});
  CHECK(parse_properties("a=;b=x=y;") == props{{"a", ""}, {"b", "x=y"}});
  CHECK_THROWS_WITH(parse_properties("a=1;=2"), "--props: `=2` is not key=value (expected \"a=1;b=2\")");
  CHECK_THROWS_AS(parse_properties("flag"), usage_error);
}

TEST_CASE("tables align columns with empty missing cells and compact JSON for non-strings", "[admin][unit]") {
  std::ostringstream out;
  print_table(out, json::parse(R"([{"id":"a","n":1,"o":{"x":[1,2]}},{"id":"long-id"}])"),
              {{"Id", "/id"}, {"N", "/n"}, {"Object", "/o"}});
  CHECK(out.str() ==
        "Id       N  Object\n"
        "-------  -  -----------\n"
        "a        1  {\"x\":[1,2]}\n"
        "long-id     \n");
  CHECK(columns_of(json::parse(R"([{"b":1,"a":2},{"c":3}])")).size() == 3);
  std::ostringstream scalars;
  print_table(scalars, json::parse("[1,\"x\"]"), columns_of(json::parse("[1,\"x\"]")));
  CHECK(scalars.str() == "Value\n-----\n1\nx\n");
}

TEST_CASE("job progress is a line per change off a terminal and a bar redrawn on one", "[admin][unit]") {
  service::job_response job;
  job.job_id = "j1";
  job.status = service::job_status::running;
  job.statistics = {.device_count = 4, .failed_count = 1, .succeeded_count = 1, .running_count = 1, .pending_count = 1};

  std::ostringstream lines;
  job_progress plain(lines, false);
  plain.update(job);
  plain.update(job);
  job.status = service::job_status::completed;
  job.statistics = {.device_count = 4, .failed_count = 1, .succeeded_count = 3};
  plain.finish(job);
  CHECK(lines.str() ==
        "job j1 running: 2/4 devices done (1 succeeded, 1 failed, 1 pending, 1 running)\n"
        "job j1 completed: 4/4 devices done (3 succeeded, 1 failed, 0 pending, 0 running)\n"
        "job j1 completed: 4 devices, 3 succeeded, 1 failed\n");

  std::ostringstream bar;
  job_progress terminal(bar, true);
  job.status = service::job_status::running;
  job.statistics = {.device_count = 4, .failed_count = 0, .succeeded_count = 2, .running_count = 2};
  terminal.update(job);
  job.status = service::job_status::completed;
  job.statistics = {.device_count = 4, .succeeded_count = 4};
  terminal.finish(job);
  CHECK(bar.str() ==
        "\rj1 [###############---------------] 2/4 running (2 ok, 0 failed)"
        "\rj1 [##############################] 4/4 completed (4 ok, 0 failed)\n"
        "job j1 completed: 4 devices, 4 succeeded, 0 failed\n");
}
