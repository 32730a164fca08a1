#include "hub_commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mockhub/device/fleet/fixture.hpp>

#include "device/fleet/registry_seed.hpp"
#include "hub_runtime.hpp"
#include "hub_state_file.hpp"
#include "mock_hub/core/job_engine.hpp"

extern char** environ;

namespace mockhub::server {

namespace {

namespace fs = std::filesystem;

// Devices listed by `start` before "... and N more" (all of them are in hub.json).
constexpr std::size_t listed_devices = 10;
// How long `stop` waits for the hub to exit after SIGTERM.
constexpr auto stop_timeout = std::chrono::seconds(60);

// Environment variables `run` sets; inherited values of the same names are dropped first, so a
// hub without TLS leaves no stale MOCKHUB_CA_FILE behind.
constexpr const char* exported_names[] = {"IOTHUB_CONNECTION_STRING", "IOTHUB_DEVICE_CONNECTION_STRING",
                                          "MOCKHUB_CA_FILE",          "MOCKHUB_MQTT_PORT",
                                          "MOCKHUB_MQTTS_PORT",       "MOCKHUB_REST_URL",
                                          "MOCKHUB_HTTPS_URL",        "MOCKHUB_DATA_DIR"};

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("mockhub", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ mockhub %^%l%$: %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

// A lock on `<data_dir>/mockhub.lock` held as long as the hub runs: the one reliable answer to
// "does a hub run here?" (hub.json can outlive a killed hub, and its pid can be reused).
class data_dir_lock {
 public:
  /// Takes the lock, or returns an unlocked object when another process holds it.
  static data_dir_lock take(const fs::path& data_dir) {
    data_dir_lock l;
    const auto path = data_dir / "mockhub.lock";
    l.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l.fd_ < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(l.fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(l.fd_);
      l.fd_ = -1;
    }
    return l;
  }
  data_dir_lock() = default;
  data_dir_lock(data_dir_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  data_dir_lock& operator=(data_dir_lock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~data_dir_lock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string already_running(const fs::path& data_dir) {
  std::string pid = "?";
  try {
    if (const auto s = read_hub_state(data_dir)) pid = std::to_string(s->pid);
  } catch (const std::exception&) {
  }
  return "a hub already runs in " + data_dir.string() + " (pid " + pid + "); stop it with `mockhub stop --data-dir " +
         data_dir.string() + "` or choose another --data-dir";
}

void create_data_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create the data directory " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
}

sigset_t signals_of(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

// A started hub and what other processes need to reach it.
struct running_hub {
  std::unique_ptr<hub_runtime> runtime;
  hub_state state;
};

// Starts the hub with the options, registers the fleet's devices and `extra_device` (when not
// empty and not in the fleet), waits until the broker admits them. Throws with a message.
running_hub launch(const hub_command_options& o, const fs::path& data_dir, const std::string& extra_device,
                   spdlog::logger& log) {
  std::optional<device::fleet::fleet_fixture> fleet;
  if (!o.fleet.empty()) {
    try {
      fleet = device::fleet::fleet_fixture::load(o.fleet);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot load the fleet " + o.fleet.string() + ": " + e.what());
    }
  }
  hub_runtime_options ro;
  ro.data_dir = data_dir;
  ro.host_name = o.host_name;
  ro.mqtt_port = o.mqtt_port;
  // Without TLS the TLS ports (8883 and 8443 by default for start) are not served at all.
  ro.mqtts_port = o.no_tls ? 0 : o.mqtts_port;
  ro.rest_port = o.rest_port;
  ro.https_port = o.no_tls ? 0 : o.https_port;
  ro.tls = !o.no_tls;
  ro.virtual_time = o.virtual_clock;
  ro.seed = o.seed;
  ro.record = o.record;
  ro.persist = o.persist;
  ro.hub.jobs.max_concurrent_jobs = core::max_concurrent_jobs_for_tier(o.tier).value_or(1);

  running_hub hub;
  hub.runtime = std::make_unique<hub_runtime>(ro);
  log.debug("starting the broker and the hub in {}", data_dir.string());
  hub.runtime->start();
  auto& rt = *hub.runtime;

  std::vector<device::fleet::device_spec> devices;
  if (fleet) devices = fleet->devices;
  if (!extra_device.empty()) {
    bool listed = false;
    for (const auto& d : devices) listed = listed || d.id == extra_device;
    if (!listed) devices.push_back({.id = extra_device});
  }
  // A hub restarted on its state keeps the devices it has (their keys, tags and twins as they
  // are now); only the fleet's devices it lacks are registered.
  std::size_t added = 0;
  const auto keys = rt.call([&](core::hub& h) {
    std::vector<device::fleet::device_spec> missing;
    for (const auto& d : devices)
      if (!h.registry().find(d.id)) missing.push_back(d);
    added = missing.size();
    auto k = device::fleet::seed_registry(h, missing);
    for (const auto& d : devices)
      if (!k.contains(d.id)) k[d.id] = h.registry().get_identity(d.id).primary_key;
    return k;
  });
  if (!devices.empty()) {
    if (added < devices.size()) log.info("{} device(s) kept from {}", devices.size() - added, data_dir.string());
    log.info("registered {} device(s){}", added, fleet ? " from " + o.fleet.string() : std::string());
    if (!rt.wait_credentials_applied(std::chrono::seconds(120)))
      throw std::runtime_error("the broker did not take the devices' credentials within 120 s");
  }

  hub_state& s = hub.state;
  s.pid = ::getpid();
  s.host_name = rt.host_name();
  s.service_connection_string = rt.service_connection_string();
  s.rest_url = "http://127.0.0.1:" + std::to_string(rt.rest_port());
  s.mqtt_port = rt.mqtt_port();
  if (!o.no_tls) {
    s.https_url = "https://127.0.0.1:" + std::to_string(rt.https_port());
    s.mqtts_port = rt.mqtts_port();
    s.ca_file = fs::absolute(rt.ca_file());
  }
  s.virtual_clock = o.virtual_clock;
  for (const auto& [id, key] : keys)
    s.devices[id] = "HostName=" + s.host_name + ";DeviceId=" + id + ";SharedAccessKey=" + key;
  log.info("MQTT on 127.0.0.1:{}{}, REST on {}{}", s.mqtt_port,
           s.mqtts_port ? ", MQTT over TLS on 127.0.0.1:" + std::to_string(*s.mqtts_port) : std::string(), s.rest_url,
           s.https_url ? " and " + *s.https_url : std::string());
  return hub;
}

// What `start` prints once the hub accepts (also the answer of `start --detach`): a summary for
// people, or with `--output json` the hub.json document.
std::string summary(const hub_state& s, const fs::path& data_dir, const std::string& format) {
  if (format == "json") return nlohmann::json(s).dump(2) + "\n";
  std::ostringstream out;
  out << "mockhub is running (pid " << s.pid << ", data dir " << data_dir.string() << ")\n\n";
  out << "Service connection string:\n  " << s.service_connection_string << "\n\n";
  if (!s.devices.empty()) {
    out << "Device connection strings (" << s.devices.size() << "):\n";
    std::size_t n = 0;
    for (const auto& [id, cs] : s.devices) {
      if (n++ == listed_devices) {
        out << "  ... and " << s.devices.size() - listed_devices << " more (all in " << hub_state_path(data_dir).string()
            << ")\n";
        break;
      }
      out << "  " << cs << "\n";
    }
    out << "\n";
  }
  out << "MQTT:          127.0.0.1:" << s.mqtt_port << "\n";
  if (s.mqtts_port) out << "MQTT over TLS: 127.0.0.1:" << *s.mqtts_port << "\n";
  out << "REST API:      " << s.rest_url << "\n";
  if (s.https_url) out << "REST HTTPS:    " << *s.https_url << "\n";
  if (s.ca_file) out << "CA file:       " << s.ca_file->string() << "\n";
  out << "Clock:         " << (s.virtual_clock ? "virtual (POST /_mockhub/clock/advance moves it)" : "system") << "\n";
  out << "Hub file:      " << hub_state_path(data_dir).string() << "\n\n";
  out << "Stop with Ctrl-C or `mockhub stop --data-dir " << data_dir.string() << "`.\n";
  return out.str();
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Runs the hub in this process until SIGINT or SIGTERM. `ready_fd` (>= 0) receives the summary
// and is closed once the hub accepts (`start --detach` waits on it).
int serve(const hub_command_options& o, const fs::path& data_dir, int ready_fd) {
  auto log = make_logger(o.log_level);
  // Blocked before any thread starts, so every thread inherits the mask and only sigwait sees them.
  const sigset_t stop_signals = signals_of({SIGINT, SIGTERM});
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  running_hub hub;
  try {
    hub = launch(o, data_dir, "", *log);
    write_hub_state(data_dir, hub.state);
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    if (ready_fd >= 0) ::close(ready_fd);
    return 1;
  }
  const std::string text = summary(hub.state, data_dir, o.output);
  std::cout << text << std::flush;
  if (ready_fd >= 0) {
    write_all(ready_fd, text);
    ::close(ready_fd);
  }
  log->info("ready");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log->info("stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::error_code ignored;
  fs::remove(hub_state_path(data_dir), ignored);
  hub.runtime->stop();
  log->info("stopped");
  return 0;
}

std::string tail_of(const fs::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "  " + all[i] + "\n";
  return out;
}

// `start --detach`: the hub runs in a child in its own session, logging to <data_dir>/mockhub.log;
// this process returns once the child has written hub.json (printing its summary), or failed.
int detach(const hub_command_options& o, const fs::path& data_dir, data_dir_lock lock) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const auto log_file = data_dir / "mockhub.log";
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(ready[0]);
    ::setsid();
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    // The lock stays held by this child (it shares the parent's open file description).
    return serve(o, data_dir, ready[1]);
  }
  ::close(ready[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const auto n = ::read(ready[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(ready[0]);
  if (!text.empty()) {
    std::cout << text << std::flush;
    return 0;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::cerr << "mockhub start: the hub did not start; the end of " << log_file.string() << ":\n"
            << tail_of(log_file, 20);
  (void)lock;
  return 1;
}

int start_command(const hub_command_options& o, bool detached) {
  const fs::path data_dir = fs::absolute(o.data_dir).lexically_normal();
  try {
    create_data_dir(data_dir);
    auto lock = data_dir_lock::take(data_dir);
    if (!lock.held()) {
      std::cerr << "mockhub start: " << already_running(data_dir) << "\n";
      return 1;
    }
    std::error_code ignored;
    fs::remove(hub_state_path(data_dir), ignored);  // left by a hub that was killed
    if (detached) return detach(o, data_dir, std::move(lock));
    return serve(o, data_dir, -1);
  } catch (const std::exception& e) {
    std::cerr << "mockhub start: " << e.what() << "\n";
    return 1;
  }
}

// Waits until the process has exited (it is not our child: a pidfd, else kill(pid, 0)).
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(fd);
    return r > 0;
  }
  while (process_exists(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 20);
  }
  return true;
}

int stop_command(const fs::path& given) {
  const fs::path data_dir = fs::absolute(given).lexically_normal();
  try {
    std::error_code ec;
    if (!fs::is_directory(data_dir, ec)) {
      std::cerr << "mockhub stop: no hub runs in " << data_dir.string() << " (no such directory)\n";
      return 1;
    }
    const auto state = read_hub_state(data_dir);
    if (!state) {
      std::cerr << "mockhub stop: no hub runs in " << data_dir.string() << " (no hub.json)\n";
      return 1;
    }
    if (data_dir_lock::take(data_dir).held()) {  // nobody holds the lock: hub.json is stale
      fs::remove(hub_state_path(data_dir), ec);
      std::cerr << "mockhub stop: no hub runs in " << data_dir.string() << " (removed the hub.json of pid "
                << state->pid << ", which has exited)\n";
      return 1;
    }
    if (::kill(state->pid, SIGTERM) != 0) {
      std::cerr << "mockhub stop: cannot signal pid " << state->pid << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    if (!wait_gone(state->pid, stop_timeout)) {
      std::cerr << "mockhub stop: the hub (pid " << state->pid << ") did not exit within "
                << stop_timeout.count() << " s\n";
      return 1;
    }
    std::cout << "mockhub: stopped the hub in " << data_dir.string() << " (pid " << state->pid << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mockhub stop: " << e.what() << "\n";
    return 1;
  }
}

// The child's environment: ours without the names `run` sets, then `run`'s values.
std::vector<std::string> child_environment(const hub_state& s, const std::string& device_id, const fs::path& data_dir) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    bool ours = false;
    for (const char* name : exported_names)
      ours = ours || (entry.starts_with(name) && entry.size() > std::strlen(name) && entry[std::strlen(name)] == '=');
    if (!ours) env.emplace_back(entry);
  }
  env.push_back("IOTHUB_CONNECTION_STRING=" + s.service_connection_string);
  env.push_back("IOTHUB_DEVICE_CONNECTION_STRING=" + s.devices.at(device_id));
  env.push_back("MOCKHUB_MQTT_PORT=" + std::to_string(s.mqtt_port));
  env.push_back("MOCKHUB_REST_URL=" + s.rest_url);
  env.push_back("MOCKHUB_DATA_DIR=" + data_dir.string());
  if (s.mqtts_port) env.push_back("MOCKHUB_MQTTS_PORT=" + std::to_string(*s.mqtts_port));
  if (s.https_url) env.push_back("MOCKHUB_HTTPS_URL=" + *s.https_url);
  if (s.ca_file) env.push_back("MOCKHUB_CA_FILE=" + s.ca_file->string());
  return env;
}

// Runs the command with the environment; forwards SIGINT/SIGTERM (blocked in this process) to
// it; returns its exit status, 128 + signal when a signal ended it, 127 when it cannot run.
int run_child(const std::vector<std::string>& command, const std::vector<std::string>& environment,
              const sigset_t& handled, spdlog::logger& log) {
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int exec_error[2];
  if (::pipe2(exec_error, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {  // only async-signal-safe calls from here on
    ::close(exec_error[0]);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int e = errno;
    [[maybe_unused]] const auto n = ::write(exec_error[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(exec_error[1]);
  int e = 0;
  ssize_t n;
  do n = ::read(exec_error[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  int status = 0;
  if (n == static_cast<ssize_t>(sizeof e)) {
    ::waitpid(pid, &status, 0);
    std::cerr << "mockhub run: cannot run '" << command[0] << "': " << std::strerror(e) << "\n";
    return 127;
  }
  log.debug("running {} (pid {})", command[0], pid);
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    siginfo_t info;
    const timespec tick{.tv_sec = 0, .tv_nsec = 200'000'000};  // also catches a SIGCHLD that was missed
    const int sig = ::sigtimedwait(&handled, &info, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      log.info("forwarding {} to {}", sig == SIGINT ? "SIGINT" : "SIGTERM", command[0]);
      ::kill(pid, sig);
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int run_command(const hub_command_options& o, const std::string& device_id, const std::vector<std::string>& command) {
  auto log = make_logger(o.log_level);
  const sigset_t handled = signals_of({SIGINT, SIGTERM, SIGCHLD});
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);  // before the hub's threads start: they inherit it

  fs::path data_dir = o.data_dir;
  bool temporary = false;
  data_dir_lock lock;
  running_hub hub;
  try {
    if (data_dir.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "mockhub-run-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
      data_dir = tmpl;
      temporary = true;
    } else {
      data_dir = fs::absolute(data_dir).lexically_normal();
      create_data_dir(data_dir);
    }
    lock = data_dir_lock::take(data_dir);
    if (!lock.held()) throw std::runtime_error(already_running(data_dir));
    hub = launch(o, data_dir, device_id, *log);
    write_hub_state(data_dir, hub.state);
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    std::cerr << "mockhub run: the hub did not start: " << e.what() << "\n";
    hub.runtime.reset();
    if (temporary) fs::remove_all(data_dir);
    return 1;
  }

  int status = 1;
  try {
    status = run_child(command, child_environment(hub.state, device_id, data_dir), handled, *log);
  } catch (const std::exception& e) {
    std::cerr << "mockhub run: " << e.what() << "\n";
  }
  log->debug("{} exited with {}; stopping the hub", command[0], status);
  std::error_code ignored;
  fs::remove(hub_state_path(data_dir), ignored);
  hub.runtime->stop();
  if (temporary) fs::remove_all(data_dir, ignored);
  return status;
}

// The options `start` and `run` share; `start` has fixed default ports, `run` ephemeral ones.
void add_hub_options(CLI::App& cmd, hub_command_options& o, bool fixed_ports) {
  cmd.add_option("--fleet", o.fleet, "A fleet fixture (docs/fleet-format.md) whose devices are registered with their tags and reported properties")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tier", o.tier, "IoT Hub tier: how many jobs may run at once (F1, S1: 1; S2: 5; S3: 10)")
      ->check(CLI::IsMember({"F1", "S1", "S2", "S3"}))
      ->capture_default_str();
  const std::string zero = " (0: an ephemeral port)";
  auto port = [&](const char* name, std::uint16_t& value, std::uint16_t fixed, const char* what) {
    value = fixed_ports ? fixed : 0;
    cmd.add_option(name, value, std::string(what) + zero)->capture_default_str();
  };
  port("--mqtt-port", o.mqtt_port, default_mqtt_port, "Plain MQTT port");
  port("--mqtts-port", o.mqtts_port, default_mqtts_port, "MQTT over TLS port");
  port("--rest-port", o.rest_port, default_rest_port, "Service REST API port, plain HTTP");
  port("--https-port", o.https_port, default_https_port, "Service REST API port, HTTPS (443 works as root)");
  cmd.add_option("--host-name", o.host_name, "Host name in connection strings, SAS scopes and the TLS certificate")
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "Seed for generated keys, etags and ids (default: random)");
  cmd.add_flag("--virtual-clock", o.virtual_clock, "Run on a virtual clock that only POST /_mockhub/clock/advance moves");
  cmd.add_flag("--no-tls", o.no_tls, "Serve plain MQTT and HTTP only (no CA, no TLS ports)");
  cmd.add_option("--record", o.record, "Record a trace (JSON Lines, docs/trace-format.md) to this file");
  cmd.add_option("--log-level", o.log_level, "Log level on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
}

fs::path default_data_dir() {
  const char* env = std::getenv("MOCKHUB_DATA_DIR");
  return env && *env ? fs::path(env) : fs::path(".mockhub");
}

}  // namespace

void add_start_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<hub_command_options>();
  auto detached = std::make_shared<bool>(false);
  o->data_dir = default_data_dir();
  o->persist = true;
  auto* cmd = app.add_subcommand("start", "Run a hub until Ctrl-C or SIGTERM (or in the background with --detach)");
  cmd->add_option("--data-dir", o->data_dir,
                  "State directory: the hub's state (hub.db), broker files, TLS material, hub.json (env MOCKHUB_DATA_DIR)")
      ->capture_default_str();
  add_hub_options(*cmd, *o, true);
  cmd->add_flag("--detach", *detached, "Return once the hub accepts, leaving it running; stop it with `mockhub stop`");
  cmd->add_option("-o,--output", o->output, "What to print once the hub accepts: table (for people) or json (hub.json)")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
  cmd->callback([o, detached, &exit_code] { exit_code = start_command(*o, *detached); });
}

void add_stop_command(CLI::App& app, int& exit_code) {
  auto data_dir = std::make_shared<fs::path>(default_data_dir());
  auto* cmd = app.add_subcommand("stop", "Stop the hub running in a data directory (SIGTERM, then wait for it to exit)");
  cmd->add_option("--data-dir", *data_dir, "The hub's data directory (env MOCKHUB_DATA_DIR)")->capture_default_str();
  cmd->callback([data_dir, &exit_code] { exit_code = stop_command(*data_dir); });
}

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<hub_command_options>();
  auto device_id = std::make_shared<std::string>("device-1");
  auto command = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("run", "Run CMD against a fresh hub and exit with its status: mockhub run [options] -- CMD ARGS...");
  auto* data_dir = cmd->add_option("--data-dir", o->data_dir, "State directory (default: a temporary one, removed afterwards)");
  cmd->add_flag("--persist", o->persist, "Keep the hub's state in <data-dir>/hub.db and start from it (needs --data-dir)")
      ->needs(data_dir);
  add_hub_options(*cmd, *o, false);
  cmd->add_option("--device-id", *device_id, "The ready device of IOTHUB_DEVICE_CONNECTION_STRING")->capture_default_str();
  cmd->add_option("command", *command, "The command and its arguments, after --")->required();
  cmd->positionals_at_end();
  cmd->callback([o, device_id, command, &exit_code] { exit_code = run_command(*o, *device_id, *command); });
}

}  // namespace mockhub::server
