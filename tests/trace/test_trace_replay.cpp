// `mockhub replay --verify` as a library call: a recorded scenario replays identically; an edited
// response is reported with its line and a JSON path; unreadable traces say which line and why.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/trace_replay.hpp"
#include "scenarios.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::ofstream out(p, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

server::replay_report replay(const std::filesystem::path& trace, std::string& output) {
  std::ostringstream out;
  auto report = server::replay_trace({.trace = trace, .verify = true}, out);
  output = out.str();
  return report;
}

}  // namespace

TEST_CASE("a recorded scenario replays identically, and an edited response shows as a diff", "[trace][integration]") {
  test::temp_dir dir;
  const auto recorded = dir / "basic.jsonl";
  test::record_scenario(recorded, test::basic_scenario);

  std::string output;
  SECTION("as recorded: identical, exit 0") {
    const auto report = replay(recorded, output);
    INFO(output);
    CHECK(report.outcome == server::replay_outcome::identical);
    CHECK(report.differences.empty());
    CHECK(report.events == read_lines(recorded).size() - 1);
  }
  SECTION("one response edited: exit 1 naming its line and member") {
    auto lines = read_lines(recorded);
    std::size_t edited = 0;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      json e = json::parse(lines[i]);
      if (e["kind"] == "response" && e["status"] == 404) {
        e["status"] = 400;
        lines[i] = e.dump();
        edited = i + 1;
        break;
      }
    }
    REQUIRE(edited > 0);
    const auto copy = dir / "edited.jsonl";
    write_lines(copy, lines);
    const auto report = replay(copy, output);
    INFO(output);
    CHECK(report.outcome == server::replay_outcome::different);
    REQUIRE(report.differences.size() == 1);
    CHECK(report.differences[0].line == edited);
    CHECK(report.differences[0].members == std::vector<std::string>{"status: 400 != 404"});
    CHECK_THAT(output, Catch::Contains(copy.string() + ":" + std::to_string(edited) + ": hub->client response"));
    CHECK_THAT(output, Catch::Contains("  status: 400 != 404\n"));

    std::ostringstream played;  // without --verify: only played
    CHECK(server::replay_trace({.trace = copy, .verify = false}, played).outcome == server::replay_outcome::identical);
    CHECK(played.str() == copy.string() + ": replayed " + std::to_string(lines.size() - 1) + " of " +
                              std::to_string(lines.size() - 1) + " events\n");
  }
}

TEST_CASE("a trace recorded over HTTPS replays over HTTPS identically", "[trace][integration]") {
  test::temp_dir dir;
  const auto recorded = dir / "https.jsonl";
  test::record_scenario(recorded, [](server::hub_runtime& hub, test::trace_log&) {
    service::service_client svc(hub.service_connection_string(),
                                {.endpoint_override = service::endpoint{.scheme = "https", .host = "127.0.0.1", .port = hub.https_port()},
                                 .ca_file = hub.ca_file()});
    svc.registry().create_device("lock1");
    REQUIRE_THROWS(svc.twins().get_twin("nosuchdevice"));
  });
  REQUIRE(read_lines(recorded).size() == 5);
  CHECK(json::parse(read_lines(recorded)[1])["scheme"] == "https");
  std::string output;
  const auto report = replay(recorded, output);
  INFO(output);
  CHECK(report.outcome == server::replay_outcome::identical);
}

TEST_CASE("an unreadable trace names its line and reason", "[trace]") {
  test::temp_dir dir;
  const std::string header =
      R"({"clock":"virtual","format":"mockhub-trace","host_name":"localhost","mockhub":"0.1.0","seed":1,"start":"2026-01-01T00:00:00.0000000Z","version":1})";
  const auto [lines, reason] = GENERATE_COPY(table<std::vector<std::string>, std::string>({
      {std::vector<std::string>{}, "line 1: the trace is empty (a header is required)"},
      {{"{\"seq\":1}"}, "line 1: the first line is not a mockhub trace header (\"format\": \"mockhub-trace\" is missing)"},
      {{header, "{not json"}, "line 2: not a JSON value"},
      {{header, "[1,2]"}, "line 2: an event must be a JSON object"},
      {{header, R"({"seq":2,"dir":"hub","kind":"clock","seconds":1})"}, "line 2: \"seq\" is 2, expected 1"},
      {{header, R"({"seq":1,"dir":"hub","kind":"sundial"})"}, "line 2: unknown event \"hub sundial\""},
      {{header, R"({"seq":1,"dir":"hub","kind":"clock","seconds":-1})"}, "line 2: \"seconds\" must be a number >= 0"},
      {{header, R"({"seq":1,"dir":"device->hub","kind":"publish","device":"d"})"}, "line 2: \"topic\" must be a string"},
      {{header, R"({"seq":1,"dir":"client->hub","kind":"request","method":"GET","path":"/x"})"},
       "line 2: \"exchange\" must be an integer"},
  }));
  const auto file = dir / "bad.jsonl";
  write_lines(file, lines);
  std::string output;
  const auto report = replay(file, output);
  CHECK(report.outcome == server::replay_outcome::unreadable);
  CHECK(report.error == file.string() + ": " + reason);
  CHECK(output == report.error + "\n");
}

TEST_CASE("an event the fresh hub never makes, or cannot be played, stops the replay with a difference",
          "[trace][integration]") {
  test::temp_dir dir;
  const std::string header =
      R"({"clock":"virtual","format":"mockhub-trace","host_name":"localhost","mockhub":"0.1.0","seed":1,"start":"2026-01-01T00:00:00.0000000Z","version":1})";
  const auto file = dir / "t.jsonl";
  std::ostringstream out;
  SECTION("an output that never comes: bounded wait") {
    write_lines(file, {header, R"({"seq":1,"dir":"hub->device","kind":"kick","device":"ghost","time":"2026-01-01T00:00:00.0000000Z"})"});
    const auto report = server::replay_trace({.trace = file, .step_timeout = std::chrono::milliseconds(300)}, out);
    CHECK(report.outcome == server::replay_outcome::different);
    REQUIRE(report.differences.size() == 1);
    CHECK(report.differences[0].line == 2);
    CHECK(report.differences[0].members == std::vector<std::string>{"the hub recorded nothing for it within 300 ms"});
  }
  SECTION("a publish of a device that never connected") {
    write_lines(file, {header, R"({"seq":1,"dir":"device->hub","kind":"publish","device":"ghost","topic":"$iothub/twin/GET/?$rid=1"})"});
    const auto report = server::replay_trace({.trace = file}, out);
    CHECK(report.outcome == server::replay_outcome::different);
    REQUIRE(report.differences.size() == 1);
    CHECK(report.differences[0].members == std::vector<std::string>{"cannot replay it: device ghost never connected"});
    CHECK_THAT(out.str(), Catch::Contains(file.string() + ":2: device->hub publish ghost $iothub/twin/GET/?$rid=1\n"));
  }
}

TEST_CASE("a missing trace file is unreadable", "[trace]") {
  test::temp_dir dir;
  std::string output;
  const auto report = replay(dir / "none.jsonl", output);
  CHECK(report.outcome == server::replay_outcome::unreadable);
  CHECK(report.error == (dir / "none.jsonl").string() + ": cannot read the file: No such file or directory");
}

TEST_CASE("JSON differences are listed by path, expected first", "[trace]") {
  const json expected = {{"body", {{"properties", {{"desired", {{"$version", 3}}}}}, {"tags", {1, 2}}}}, {"status", 200},
                         {"key", "<redacted>"}};
  const json actual = {{"body", {{"properties", {{"desired", {{"$version", 4}}}}}, {"tags", {1}}, {"extra", true}}},
                       {"key", "abc"}};
  CHECK(server::json_differences(expected, actual) ==
        std::vector<std::string>{"body.properties.desired.$version: 3 != 4", "body.tags: 2 items != 1 items",
                                 "body.extra: (absent) != true", "status: 200 != (absent)"});
  CHECK(server::json_differences(json(1), json("1")) == std::vector<std::string>{"(value): 1 != \"1\""});
  CHECK(server::json_differences(json{{"a", 1.0}}, json{{"a", 1}}).empty());
}
