// Waits (bounded) for a file to appear in a directory: what the tests of the `mockhub` command
// use to know a hub wrote its hub.json. inotify, no polling.
#pragma once

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

namespace mockhub::test {

// Waits (bounded) until `dir/name` appears (created or renamed into place); inotify, no polling.
inline bool wait_for_file(const std::filesystem::path& dir, const std::string& name, std::chrono::milliseconds timeout) {
  const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  REQUIRE(fd >= 0);
  ::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool found = std::filesystem::exists(dir / name);
  while (!found && std::chrono::steady_clock::now() < deadline) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    found = std::filesystem::exists(dir / name);
  }
  ::close(fd);
  return found;
}

}  // namespace mockhub::test
