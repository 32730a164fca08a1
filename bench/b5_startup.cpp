// B5: `mockhub start` as a process until both MQTT and REST accept a TCP connection, then
// `mockhub stop` until the started process has exited. Ephemeral ports, a temporary data dir.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/bench_table.hpp"
#include "bench/benches.hpp"
#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/hub_state_file.hpp"

namespace mockhub::bench {

namespace {

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::uint16_t port_of(const std::string& url) { return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

struct start_stop {
  double start_ms, stop_ms;
};

// One start and stop; throws when the hub does not come up or go down within 30 s.
start_stop once(const bench_config& c, const std::filesystem::path& dir) {
  const auto mockhub = c.bin_dir / "mockhub";
  const auto t0 = steady::now();
  auto hub = server::child_process::spawn({.program = mockhub,
                                           .arguments = {"start", "--data-dir", dir.string(), "--mqtt-port", "0", "--mqtts-port", "0",
                                                         "--rest-port", "0", "--https-port", "0", "--log-level", "warn"},
                                           .output_file = dir.string() + ".log"});
  const auto deadline = t0 + std::chrono::seconds(30);
  std::optional<server::hub_state> state;
  for (;;) {
    if (steady::now() > deadline || !hub.running()) throw std::runtime_error("B5: mockhub start did not come up: " + hub.describe_exit());
    try {
      state = server::read_hub_state(dir);
    } catch (const std::exception&) {
      state.reset();  // being written
    }
    if (state && accepts(state->mqtt_port) && accepts(port_of(state->rest_url))) break;
    std::this_thread::yield();
  }
  start_stop r{ms_since(t0), 0};
  const auto t1 = steady::now();
  auto stop = server::child_process::spawn({.program = mockhub, .arguments = {"stop", "--data-dir", dir.string()},
                                            .output_file = dir.string() + ".stop.log"});
  if (!hub.wait_for_exit(std::chrono::seconds(30))) throw std::runtime_error("B5: mockhub did not stop within 30 s");
  r.stop_ms = ms_since(t1);
  stop.wait_for_exit(std::chrono::seconds(30));
  return r;
}

}  // namespace

void run_b5_startup(const bench_config& c) {
  const auto base = std::filesystem::temp_directory_path() / ("mockhub-bench-b5-" + std::to_string(::getpid()));
  std::filesystem::create_directories(base);
  samples fresh_start, fresh_stop, kept_start, kept_stop;
  for (int r = 0; r < c.reps; ++r) {
    const auto dir = base / ("fresh-" + std::to_string(r));
    const auto a = once(c, dir);
    fresh_start.add(a.start_ms);
    fresh_stop.add(a.stop_ms);
    const auto b = once(c, dir);  // the same data dir again: the CA and server key are kept
    kept_start.add(b.start_ms);
    kept_stop.add(b.stop_ms);
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  const std::string target = "target < 300 ms";
  print_row("B5", "mockhub start until MQTT+REST accept, new data dir (generates CA)", "ms", fresh_start, std::nullopt, target);
  print_row("B5", "mockhub start until MQTT+REST accept, data dir reused (CA kept)", "ms", kept_start, std::nullopt, target);
  print_row("B5", "mockhub stop until the hub exited", "ms", fresh_stop);
  print_row("B5", "mockhub stop until the hub exited (reused dir)", "ms", kept_stop);
}

}  // namespace mockhub::bench
