// The golden traces of fixtures/traces: each is replayed with --verify against a fresh hub and
// must be identical, so a change in the hub's behaviour shows up as a readable diff. Re-record
// them after an intended change with MOCKHUB_RECORD_GOLDEN=1 (docs/trace-format.md).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/trace_replay.hpp"
#include "scenarios.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

const std::filesystem::path golden_dir = std::filesystem::path(MOCKHUB_SOURCE_DIR) / "fixtures" / "traces";

struct golden_scenario {
  const char* name;
  void (*run)(server::hub_runtime&, test::trace_log&);
};
const golden_scenario golden_scenarios[] = {
    {"tutorial", test::tutorial_scenario},
    {"registry-twin-errors", test::registry_twin_errors_scenario},
};

bool re_recording() {
  const char* v = std::getenv("MOCKHUB_RECORD_GOLDEN");
  return v && std::string(v) == "1";
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("every golden trace replays with --verify identically", "[trace][golden][integration]") {
  const golden_scenario g = GENERATE(from_range(std::begin(golden_scenarios), std::end(golden_scenarios)));
  const auto file = golden_dir / (std::string(g.name) + ".jsonl");
  if (re_recording()) test::record_scenario(file, g.run);
  INFO(file.string());
  REQUIRE(std::filesystem::exists(file));
  std::ostringstream out;
  const auto report = server::replay_trace({.trace = file, .verify = true}, out);
  INFO(out.str());
  CHECK(report.outcome == server::replay_outcome::identical);
  CHECK(report.events > 10);
}

TEST_CASE("every file of fixtures/traces has a scenario that records it", "[trace][golden]") {
  std::vector<std::string> files, names;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path().stem().string());
  for (const auto& g : golden_scenarios) names.push_back(g.name);
  std::sort(files.begin(), files.end());
  std::sort(names.begin(), names.end());
  CHECK(files == names);
}

TEST_CASE("mockhub replay --verify exits 1 on an edited golden trace, naming the line and member", "[trace][golden][integration]") {
  test::temp_dir dir;
  std::istringstream in(read_text(golden_dir / "tutorial.jsonl"));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::size_t edited = 0;  // the last job status read: completed, edited to running
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const json e = json::parse(lines[i]);
    if (e["kind"] == "response" && e.contains("body") && e["body"].is_object() && e["body"].value("jobId", "") == "lock-43" &&
        e["body"].value("status", "") == "completed")
      edited = i;
  }
  REQUIRE(edited > 0);
  json e = json::parse(lines[edited]);
  e["body"]["status"] = "running";
  lines[edited] = e.dump();
  const auto copy = dir / "tutorial-edited.jsonl";
  {
    std::ofstream out(copy);
    for (const auto& l : lines) out << l << "\n";
  }
  const auto log = dir / "replay.log";
  auto child = server::child_process::spawn(
      {.program = MOCKHUB_BINARY, .arguments = {"replay", "--verify", copy.string()}, .output_file = log});
  REQUIRE(child.wait_for_exit(std::chrono::seconds(120)));
  const std::string output = read_text(log);
  INFO(output);
  REQUIRE(child.wait_status());
  REQUIRE(WIFEXITED(*child.wait_status()));
  CHECK(WEXITSTATUS(*child.wait_status()) == 1);
  CHECK_THAT(output, Catch::Contains(copy.string() + ":" + std::to_string(edited + 1) + ": hub->client response"));
  CHECK_THAT(output, Catch::Contains("  body.status: \"running\" != \"completed\"\n"));
  CHECK_THAT(output, Catch::Contains(", 1 different"));
}

TEST_CASE("mockhub replay exits 2 on an unreadable trace", "[trace][golden]") {
  test::temp_dir dir;
  const auto bad = dir / "bad.jsonl";
  std::ofstream(bad) << "{\"format\":\"mockhub-trace\",\"version\":1}\n";
  const auto log = dir / "replay.log";
  auto child = server::child_process::spawn({.program = MOCKHUB_BINARY, .arguments = {"replay", "--verify", bad.string()}, .output_file = log});
  REQUIRE(child.wait_for_exit(std::chrono::seconds(60)));
  REQUIRE(child.wait_status());
  CHECK(WEXITSTATUS(*child.wait_status()) == 2);
  CHECK(read_text(log) == bad.string() + ": line 1: \"host_name\" is missing\n");
}
