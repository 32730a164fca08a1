// build/bin/mockhub run as a process (not on a terminal).
#pragma once

#include "integration/run_program.hpp"

namespace mockhub::test {

inline run_result run_mockhub(const temp_dir& dir, std::vector<std::string> arguments) {
  return run_program(dir, MOCKHUB_BINARY, std::move(arguments));
}

}  // namespace mockhub::test
