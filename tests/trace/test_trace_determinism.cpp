// A seeded virtual-clock hub records the same scenario as the same bytes, run after run; and a
// hub asked to record where it cannot write refuses to start, naming the path.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "integration/temp_dir.hpp"
#include "scenarios.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string record_basic_scenario(const std::filesystem::path& file) {
  test::record_scenario(file, test::basic_scenario);
  return read_file(file);
}

}  // namespace

TEST_CASE("two runs of one seeded virtual-clock scenario record byte-identical traces", "[trace][integration]") {
  test::temp_dir dir;
  const std::string first = record_basic_scenario(dir / "first.jsonl");
  const std::string second = record_basic_scenario(dir / "second.jsonl");
  INFO(first);
  CHECK(first == second);

  // What the trace holds: every kind of event the scenario caused, and no key.
  std::istringstream lines(first);
  std::string line;
  std::getline(lines, line);
  CHECK(json::parse(line)["seed"] == 43);
  std::set<std::string> kinds;
  while (std::getline(lines, line)) {
    const json e = json::parse(line);
    kinds.insert(e["dir"].get<std::string>() + " " + e["kind"].get<std::string>());
  }
  CHECK(kinds == std::set<std::string>{"client->hub request", "hub->client response", "device->hub connect",
                                       "device->hub subscribe", "device->hub publish", "hub->device publish",
                                       "device->hub disconnect", "hub clock"});
  CHECK(first.find("SharedAccessSignature") == std::string::npos);
  CHECK(first.find("\"primaryKey\":\"<redacted>\"") != std::string::npos);
}

TEST_CASE("a hub asked to record into an unwritable path does not start", "[trace][integration]") {
  test::temp_dir dir;
  server::hub_runtime_options o;
  o.virtual_time = true;
  o.record = dir / "missing" / "trace.jsonl";
  server::hub_runtime hub(o);
  try {
    hub.start();
    FAIL("expected a trace_error");
  } catch (const trace::trace_error& e) {
    CHECK(std::string(e.what()) ==
          "mockhub: cannot write the trace file " + o.record.string() + ": No such file or directory");
  }
}
