// Runs one of our programs as a process (stdout and stderr to a file in `dir`, so not a
// terminal), waits for it with a bound, and returns its exit code and output.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/child_process.hpp"

namespace mockhub::test {

struct run_result {
  int exit_code = -1;
  std::string output;
};

inline run_result run_program(const temp_dir& dir, const std::filesystem::path& program, std::vector<std::string> arguments,
                              std::chrono::seconds bound = std::chrono::seconds(120)) {
  const auto log = dir / (program.filename().string() + ".log");
  auto child = server::child_process::spawn({.program = program, .arguments = std::move(arguments), .output_file = log});
  const bool exited = child.wait_for_exit(bound);
  if (!exited) child.terminate(std::chrono::seconds(5));
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  run_result r;
  r.output = text.str();
  INFO(r.output);
  REQUIRE(exited);
  REQUIRE(child.wait_status());
  REQUIRE(WIFEXITED(*child.wait_status()));
  r.exit_code = WEXITSTATUS(*child.wait_status());
  return r;
}

}  // namespace mockhub::test
