// Runs the `mockhub` binary as a process with its stdout and stderr captured apart, and a hub
// in this process for it to talk to (system clock: the verbs poll in real time).
#pragma once

#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/child_process.hpp"
#include "service_fixture.hpp"

namespace mockhub::test {

struct process_result {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs `env ENV... mockhub ARGS...`, waits (at most 120 s) and returns its exit code and output.
inline process_result run_mockhub(const std::vector<std::string>& arguments, const std::vector<std::string>& env = {}) {
  temp_dir dir;
  // sh puts stderr in its own file; `env` sets variables for mockhub alone.
  std::vector<std::string> argv = {"-c", "exec \"$@\" 2>\"$0\"", (dir / "err").string(), "/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(MOCKHUB_BINARY);
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto child = server::child_process::spawn({.program = "/bin/sh", .arguments = argv, .output_file = dir / "out"});
  const bool exited = child.wait_for_exit(std::chrono::seconds(120));
  if (!exited) child.terminate(std::chrono::seconds(5));
  process_result r{.out = read_text(dir / "out"), .err = read_text(dir / "err")};
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(exited);
  REQUIRE(WIFEXITED(*child.wait_status()));
  r.exit_code = WEXITSTATUS(*child.wait_status());
  return r;
}

inline std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A hub on the system clock and the flags that point the verbs at its plain HTTP REST API.
struct admin_fixture : service_fixture {
  admin_fixture() : service_fixture(hub_options(false)) {}

  std::vector<std::string> hub_flags() {
    return {"--connection-string", hub.service_connection_string(), "--rest-url",
            "http://127.0.0.1:" + std::to_string(hub.rest_port())};
  }
  /// `mockhub ARGS... <hub flags>`.
  process_result run(const std::vector<std::string>& arguments) { return run_mockhub(arguments + hub_flags()); }
};

}  // namespace mockhub::test
