// `mockhub demo` as a user runs it (not on a terminal): a fresh hub, the door-lock fleet, the
// tutorial's two jobs a second or two ahead, the summary, and the exit code.
#include <catch2/catch.hpp>

#include <fstream>

#include "run_mockhub.hpp"

using namespace mockhub;

namespace {
const std::vector<std::string> quick = {"--twin-delay", "1", "--method-delay", "2"};

std::vector<std::string> demo(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), "demo");
  arguments.insert(arguments.end(), quick.begin(), quick.end());
  return arguments;
}
}  // namespace

TEST_CASE("mockhub demo runs the tutorial on the door-lock fleet and exits 0", "[demo][integration]") {
  test::temp_dir dir;
  // frontDoor plus lock-00000..lock-00004 in building 43; 50 battery and 10 flaky devices elsewhere.
  const auto r = test::run_mockhub(dir, demo({"--devices", "5"}));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("(66 devices)"));
  CHECK_THAT(r.output, Catch::Contains("  devices connected 66/66"));
  CHECK_THAT(r.output, Catch::Contains("  twin job          6/6  completed"));
  CHECK_THAT(r.output, Catch::Contains("  method job        6/6  completed"));
  CHECK_THAT(r.output, Catch::Contains("Summary (6 locks, tags.building = 43, "));
  CHECK_THAT(r.output, Catch::Matches(R"([\s\S]*\n  twin    completed         6          6       0 +[0-9.]+ s  [0-9a-f-]{36}\n[\s\S]*)"));
  CHECK_THAT(r.output, Catch::Matches(R"([\s\S]*\n  method  completed         6          6       0 +[0-9.]+ s  [0-9a-f-]{36}\n[\s\S]*)"));
  CHECK_THAT(r.output, Catch::Contains("  locks reporting lockState \"locked\":      6/6\n"));
  CHECK_THAT(r.output, Catch::Contains("  locks reporting desired {\"building\":43,\"floor\":3}: 6/6\n"));
  CHECK_THAT(r.output, Catch::Contains("Every lock is locked and reports {\"building\":43,\"floor\":3}."));
  // Not a terminal: plain lines, no cursor movement.
  CHECK(r.output.find('\x1b') == std::string::npos);
}

TEST_CASE("mockhub demo --progress bars redraws bars in place", "[demo][integration]") {
  test::temp_dir dir;
  const auto r = test::run_mockhub(dir, demo({"--devices", "1", "--progress", "bars"}));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("\x1b[2K  devices connected [##############################] 62/62"));
  // The three lines are redrawn from the first one: cursor up three lines, each line cleared.
  CHECK_THAT(r.output, Catch::Contains("\x1b[3F\x1b[2K  devices connected [##############################] 62/62"));
  CHECK_THAT(r.output, Catch::Contains("\x1b[2K  method job        [##############################] 2/2  completed\n"));
}

TEST_CASE("mockhub demo exits 1 and names the lock that failed its method", "[demo][integration]") {
  test::temp_dir dir;
  const auto fixture = dir / "fleet.json";
  std::ofstream(fixture) << R"({
    "behaviours": {
      "lock": {"methods": {"lockDoor": {"status": 200, "reports": {"lockState": "locked"}}}, "desired_echo": true},
      "jammed": {"methods": {"lockDoor": {"failure_rate": 1, "failure_status": 500, "failure_payload": {"message": "jammed"},
                                          "reports": {"lockState": "locked"}}}, "desired_echo": true}
    },
    "devices": [{"id": "backDoor", "behaviour": "jammed", "tags": {"building": 43}}],
    "groups": [{"prefix": "lock-", "count": 3, "behaviour": "lock", "tags": {"building": 43}}]
  })";
  const auto r = test::run_mockhub(dir, demo({"--fleet", fixture.string()}));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("  locks reporting lockState \"locked\":      3/4\n"));
  CHECK_THAT(r.output, Catch::Contains("  locks reporting desired {\"building\":43,\"floor\":3}: 4/4\n"));
  CHECK_THAT(r.output, Catch::Contains("1 device(s) failed:\n"
                                       "  backDoor: lockDoor answered 500 {\"message\":\"jammed\"}; its twin does not report lockState \"locked\"\n"));
}

TEST_CASE("mockhub demo refuses a fixture it cannot use with exit 2", "[demo]") {
  test::temp_dir dir;
  const auto fixture = dir / "fleet.json";
  // (fixture text, extra options, what the message says); an empty text writes no file.
  const auto [text, options, expected] = GENERATE(table<std::string, std::vector<std::string>, std::string>({
      {R"({"devices": [{"id": "a", "tags": {"building": 43}}]})", {"--devices", "3"}, "--devices needs a fixture with a group to scale"},
      {R"({"groups": [{"prefix": "x", "count": 1, "behaviour": "nope"}]})", {}, "unknown behaviour 'nope'"},
      {R"({"groups": [{"prefix": "x", "count": 1, "tags": {"building": 1}}]})", {}, "no device matches 'tags.building = 43'"},
      {"", {}, "fleet.json"},
  }));
  CAPTURE(text, options);
  if (!text.empty()) std::ofstream(fixture) << text;
  std::vector<std::string> arguments{"--fleet", fixture.string()};
  arguments.insert(arguments.end(), options.begin(), options.end());
  const auto r = test::run_mockhub(dir, demo(arguments));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains(expected));
}
