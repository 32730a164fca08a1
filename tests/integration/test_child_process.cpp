#include "mock_hub/server/child_process.hpp"
#include "temp_dir.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

using mockhub::server::child_process;
using mockhub::test::temp_dir;
using namespace std::chrono_literals;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("A child's exit is observed and described", "[integration][broker][process]") {
  temp_dir dir;
  child_process child = child_process::spawn({.program = "/bin/sh", .arguments = {"-c", "echo out; echo err >&2; exit 3"},
                                              .output_file = dir / "out.log"});
  CHECK(child.pid() > 0);
  REQUIRE(child.wait_for_exit(30s));
  CHECK_FALSE(child.running());
  CHECK(child.describe_exit() == "exited with status 3");
  CHECK(read_text(dir / "out.log") == "out\nerr\n");
}

TEST_CASE("A program that cannot be executed is reported with its errno", "[integration][broker][process]") {
  try {
    child_process::spawn({.program = "/nonexistent/program"});
    FAIL("spawned a program that does not exist");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENOENT);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("cannot start /nonexistent/program (execve)"));
  }
}

TEST_CASE("A child inherits only stdin, stdout and stderr", "[integration][broker][process]") {
  temp_dir dir;
  // A descriptor without close-on-exec, as careless code in the same process would leave open.
  const int leaky = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(leaky >= 0);
  child_process child = child_process::spawn(
      {.program = "/bin/sh", .arguments = {"-c", "ls /proc/$$/fd"}, .output_file = dir / "fds"});
  REQUIRE(child.wait_for_exit(30s));
  ::close(leaky);
  CHECK(read_text(dir / "fds") == "0\n1\n2\n");
}

TEST_CASE("A child that ignores SIGTERM is killed after the grace period", "[integration][broker][process]") {
  temp_dir dir;
  // The child reports through a FIFO once it ignores SIGTERM; the read end is opened first so
  // that opening it for writing does not block.
  const auto fifo = dir / "ready";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int ready = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(ready >= 0);
  child_process child = child_process::spawn(
      {.program = "/bin/sh", .arguments = {"-c", "trap '' TERM; echo ready; exec sleep 600"}, .output_file = fifo});
  pollfd p{.fd = ready, .events = POLLIN, .revents = 0};
  REQUIRE(::poll(&p, 1, 30'000) == 1);
  char buf[16] = {};
  CHECK(::read(ready, buf, sizeof buf) > 0);
  ::close(ready);

  child.terminate(200ms);
  CHECK_FALSE(child.running());
  CHECK(child.describe_exit() == "killed by signal 9 (Killed)");
}

TEST_CASE("The open-file soft limit is raised to the hard limit", "[integration][broker][process]") {
  temp_dir dir;
  child_process child = child_process::spawn(
      {.program = "/bin/sh", .arguments = {"-c", "echo $(ulimit -Sn) $(ulimit -Hn)"}, .output_file = dir / "limits",
       .min_open_files = 4096});
  REQUIRE(child.wait_for_exit(30s));
  std::istringstream fields(read_text(dir / "limits"));
  std::string soft, hard;
  fields >> soft >> hard;
  CHECK(soft == hard);
}
