#include "mock_hub/server/broker_launcher.hpp"

#include "mock_hub/server/mosquitto_conf.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

namespace mockhub::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using reason = broker_launch_error::reason;

constexpr const char* default_binary = "/usr/sbin/mosquitto";
constexpr const char* install_hint = "install it with `apt-get install mosquitto` (or run scripts/setup)";

class unique_fd {
 public:
  explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// ---- binary, plugin, user -------------------------------------------------------------------

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<fs::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

fs::path resolve_binary(const fs::path& configured) {
  if (configured.empty()) {
    if (is_executable_file(default_binary)) return default_binary;
    if (auto found = find_on_path("mosquitto")) return *found;
    throw broker_launch_error(reason::binary_not_found, std::string("mosquitto broker not found (neither ") +
                                                            default_binary + " nor `mosquitto` on PATH); " + install_hint);
  }
  if (configured.string().find('/') == std::string::npos) {
    if (auto found = find_on_path(configured.string())) return *found;
    throw broker_launch_error(reason::binary_not_found, "mosquitto broker `" + configured.string() +
                                                            "` not found on PATH; " + install_hint);
  }
  if (is_executable_file(configured)) return configured;
  throw broker_launch_error(reason::binary_not_found, "mosquitto broker not found at " + configured.string() +
                                                          " (missing or not executable); " + install_hint +
                                                          ", or set mosquitto_binary to where it is");
}

void check_plugin(const fs::path& plugin) {
  if (plugin.empty()) return;
  std::error_code ec;
  if (!fs::is_regular_file(plugin, ec)) {
    throw broker_launch_error(reason::plugin_not_found,
                              "mosquitto plugin not found: " + plugin.string() +
                                  "; build the mockhub broker plugin first (mock_hub/broker_plugin, e.g. "
                                  "`cmake --build build`), or point `plugin` at the built .so");
  }
}

// mosquitto started as root switches to the `user` its configuration names (default
// `mosquitto`), which could not read our files, and a credential change would also clear the
// parent-death signal. Naming the user we run as keeps both. Not root: the line is ignored.
std::string current_user_name() {
  const uid_t uid = ::geteuid();
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384U);
  passwd entry{};
  passwd* result = nullptr;
  if (::getpwuid_r(uid, &entry, buf.data(), buf.size(), &result) == 0 && result != nullptr) return entry.pw_name;
  return uid == 0 ? "root" : "";
}

// ---- files ----------------------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The configuration carries plugin options (the hub's secret): owner only.
void write_private_file(const fs::path& path, const std::string& text) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd || ::fchmod(fd.get(), 0600) != 0) {
    throw broker_launch_error(reason::system, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw broker_launch_error(reason::system, "cannot write " + path.string() + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

// ---- ports ----------------------------------------------------------------------------------

unique_fd bind_loopback(int family, std::uint16_t port) {
  unique_fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    const int one = 1;
    (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  return rc == 0 ? std::move(fd) : unique_fd{};
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&a)->sin_port
                                      : reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
}

bool ipv6_loopback_available() { return static_cast<bool>(bind_loopback(AF_INET6, 0)); }

// Ports the kernel calls free on 127.0.0.1 (and ::1), distinct from each other. They are
// released before the broker binds them, so another program may take one in between: the
// caller retries on a collision.
std::vector<std::uint16_t> pick_free_ports(std::size_t count, bool ipv6) {
  std::vector<unique_fd> held;
  std::vector<std::uint16_t> ports;
  for (int tries = 0; ports.size() < count; ++tries) {
    if (tries > 100) throw broker_launch_error(reason::system, "cannot find a free port on the loopback interface");
    unique_fd v4 = bind_loopback(AF_INET, 0);
    if (!v4) throw broker_launch_error(reason::system, std::string("cannot bind 127.0.0.1: ") + std::strerror(errno));
    const std::uint16_t port = bound_port(v4.get());
    if (port == 0) continue;
    if (ipv6) {
      unique_fd v6 = bind_loopback(AF_INET6, port);
      if (!v6) continue;
      held.push_back(std::move(v6));
    }
    held.push_back(std::move(v4));
    ports.push_back(port);
  }
  return ports;
}

unique_fd connect_loopback(int family, std::uint16_t port) {
  unique_fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  return rc == 0 ? std::move(fd) : unique_fd{};
}

struct probe_result {
  bool connected = false;
  std::string tls_error{};  // set when the TLS handshake failed
};

// A TLS listener is probed with a full handshake that verifies the broker's certificate against
// our CA for "localhost": a bare TCP connect would leave "SSL ... unexpected eof" errors in the
// broker's log, and this also proves the broker serves the material we generated.
std::string tls_handshake_error(int fd, const fs::path& cafile, milliseconds budget) {
  const long ms = std::max<long long>(budget.count(), 1);
  const timeval tv{.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), cafile.c_str(), nullptr) != 1 ||
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    ERR_clear_error();
    return "cannot set up a TLS client with " + cafile.string();
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), &SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_set1_host(ssl.get(), "localhost") != 1 ||
      SSL_set_tlsext_host_name(ssl.get(), "localhost") != 1) {
    ERR_clear_error();
    return "cannot set up a TLS client";
  }
  if (SSL_connect(ssl.get()) == 1) {
    (void)SSL_shutdown(ssl.get());
    ERR_clear_error();
    return {};
  }
  std::string error = "TLS handshake failed";
  if (const long verify = SSL_get_verify_result(ssl.get()); verify != X509_V_OK) {
    error += std::string(": certificate verification: ") + X509_verify_cert_error_string(verify);
  }
  if (const unsigned long code = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    error += std::string(": ") + buf.data();
  }
  ERR_clear_error();
  return error;
}

probe_result probe(int family, std::uint16_t port, const fs::path* tls_ca, milliseconds budget) {
  unique_fd fd = connect_loopback(family, port);
  if (!fd) return {};
  if (tls_ca == nullptr) return {.connected = true};
  return {.connected = true, .tls_error = tls_handshake_error(fd.get(), *tls_ca, budget)};
}

// ---- the broker's log -----------------------------------------------------------------------

// mosquitto logs "mosquitto version 2.0.11 running" once every listener is bound and listening;
// a bind failure makes it exit before that line.
bool says_running(const std::string& log) {
  for (std::size_t at = log.find("mosquitto version"); at != std::string::npos; at = log.find("mosquitto version", at + 1)) {
    const std::size_t eol = log.find('\n', at);
    if (eol == std::string::npos) return false;  // line not complete yet
    if (log.compare(eol - 8, 8, " running") == 0) return true;
  }
  return false;
}

// On "Address already in use", the port of the listener it was opening (the line before says
// "Opening ipv4 listen socket on port N."). 0 when the port cannot be told.
std::optional<std::uint16_t> collided_port(const std::string& log) {
  const std::size_t error = log.find("Address already in use");
  if (error == std::string::npos) return std::nullopt;
  const std::string marker = "listen socket on port ";
  const std::size_t at = log.rfind(marker, error);
  if (at == std::string::npos) return std::uint16_t{0};
  const long port = std::strtol(log.c_str() + at + marker.size(), nullptr, 10);
  return static_cast<std::uint16_t>(port > 0 && port <= 65535 ? port : 0);
}

std::string tail_of(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t from = text.size() - max_bytes;
  const std::size_t nl = text.find('\n', from);
  if (nl != std::string::npos && nl + 1 < text.size()) from = nl + 1;
  return text.substr(from);
}

milliseconds left_until(steady_clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()));
}

}  // namespace

struct broker_launcher::attempt_result {
  bool ready = false;
  reason why = reason::broker_exited;
  std::string message{};
  std::optional<std::uint16_t> collision{};  // set when the broker exited on a taken port (0: which one unknown)
};

broker_launcher::broker_launcher(broker_options options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) throw broker_launch_error(reason::invalid_options, "broker_options.data_dir is not set");
  if (options_.tls_dir.empty()) options_.tls_dir = options_.data_dir;
  if (options_.max_start_attempts < 1) options_.max_start_attempts = 1;
  if (options_.tls_listener && options_.mqtt_port != 0 && options_.mqtt_port == options_.tls_port) {
    throw broker_launch_error(reason::invalid_options,
                              "mqtt_port and tls_port are both " + std::to_string(options_.mqtt_port));
  }
  if (!options_.tls_listener && options_.tls_port != 0) {
    throw broker_launch_error(reason::invalid_options, "tls_port is set but tls_listener is false");
  }
  if (options_.plugin.empty() && !options_.plugin_options.empty()) {
    throw broker_launch_error(reason::invalid_options, "plugin_options are set but no plugin");
  }
}

broker_launcher::~broker_launcher() { stop(); }

bool broker_launcher::running() { return process_.pid() > 0 && process_.running(); }

void broker_launcher::restart() {
  if (mqtt_port_ != 0) options_.mqtt_port = mqtt_port_;
  if (tls_port_ != 0) options_.tls_port = tls_port_;
  stop();
  start();
}

void broker_launcher::start() {
  if (running()) throw std::logic_error("broker_launcher::start: the broker is already running (pid " +
                                        std::to_string(pid()) + ")");
  binary_ = resolve_binary(options_.mosquitto_binary);
  check_plugin(options_.plugin);

  std::error_code ec;
  if (fs::create_directories(options_.data_dir, ec)) {
    fs::permissions(options_.data_dir, fs::perms::owner_all, ec);
  } else if (ec) {
    throw broker_launch_error(reason::system, "cannot create " + options_.data_dir.string() + ": " + ec.message());
  }
  const fs::path lock_path = options_.data_dir / "broker.lock";
  unique_fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) throw broker_launch_error(reason::system, "cannot open " + lock_path.string() + ": " + std::strerror(errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    throw broker_launch_error(reason::data_dir_in_use, "data directory " + options_.data_dir.string() +
                                                           " is in use by another running broker (" +
                                                           lock_path.string() + " is locked); give each broker its own data_dir");
  }

  if (options_.tls_listener) {
    try {
      tls_ = tls_material::ensure(options_.tls_dir, options_.tls);
    } catch (const std::exception& e) {
      throw broker_launch_error(reason::system, e.what());
    }
  } else {
    tls_.reset();
  }
  ipv6_ = options_.listen_ipv6 && ipv6_loopback_available();

  // 0 means "pick one"; a fixed port becomes 0 when it collides and retrying is allowed.
  std::uint16_t want_mqtt = options_.mqtt_port;
  std::uint16_t want_tls = options_.tls_listener ? options_.tls_port : 0;
  std::string last_failure;
  for (int attempt = 1; attempt <= options_.max_start_attempts; ++attempt) {
    const std::size_t needed = (want_mqtt == 0 ? 1U : 0U) + (options_.tls_listener && want_tls == 0 ? 1U : 0U);
    std::vector<std::uint16_t> picked = pick_free_ports(needed, ipv6_);
    const std::uint16_t mqtt = want_mqtt != 0 ? want_mqtt : picked.back();
    if (want_mqtt == 0) picked.pop_back();
    const std::uint16_t tls = !options_.tls_listener ? 0 : want_tls != 0 ? want_tls : picked.back();

    attempt_result r = run_attempt(mqtt, tls);
    if (r.ready) {
      mqtt_port_ = mqtt;
      tls_port_ = tls;
      lock_fd_ = lock.release();
      return;
    }
    if (!r.collision) throw broker_launch_error(r.why, r.message);

    const auto retry_port = [&](std::uint16_t& want, std::uint16_t used, bool fixed) {
      if (*r.collision != 0 && *r.collision != used) return;
      if (fixed && !options_.retry_on_port_collision) {
        throw broker_launch_error(reason::port_in_use,
                                  "port " + std::to_string(used) + " on 127.0.0.1" + (ipv6_ ? " / ::1" : "") +
                                      " is already in use by another program; choose another port, use 0 for an "
                                      "ephemeral one, or set retry_on_port_collision. " + r.message);
      }
      want = 0;
    };
    retry_port(want_mqtt, mqtt, want_mqtt != 0);
    if (options_.tls_listener) retry_port(want_tls, tls, want_tls != 0);
    last_failure = r.message;
  }
  throw broker_launch_error(reason::port_in_use, "mosquitto found its ports taken on all " +
                                                     std::to_string(options_.max_start_attempts) +
                                                     " attempts. " + last_failure);
}

broker_launcher::attempt_result broker_launcher::run_attempt(std::uint16_t mqtt, std::uint16_t tls) {
  mosquitto_conf conf{
      .cafile = tls_ ? tls_->ca_file() : fs::path{},
      .certfile = tls_ ? tls_->server_cert_file() : fs::path{},
      .keyfile = tls_ ? tls_->server_key_file() : fs::path{},
      .plugin = options_.plugin,
      .plugin_options = options_.plugin_options,
      .user = current_user_name(),
      .max_keepalive = options_.max_keepalive,
      .max_qos = options_.max_qos,
  };
  const auto listen = [&](std::uint16_t port, bool is_tls) {
    conf.listeners.push_back({.port = port, .address = "127.0.0.1", .tls = is_tls});
    if (ipv6_) conf.listeners.push_back({.port = port, .address = "::1", .tls = is_tls});
  };
  listen(mqtt, false);
  if (options_.tls_listener) listen(tls, true);
  try {
    write_private_file(config_file(), conf.text());
  } catch (const std::invalid_argument& e) {
    throw broker_launch_error(reason::invalid_options, e.what());
  }

  try {
    process_ = child_process::spawn({
        .program = binary_,
        .arguments = {"-c", config_file().string()},
        .output_file = log_file(),
        .min_open_files = options_.min_open_files,
    });
  } catch (const std::system_error& e) {
    throw broker_launch_error(reason::system, e.what());
  }

  const auto deadline = steady_clock::now() + options_.start_timeout;
  const auto failure = [&](reason why, const std::string& what) {
    attempt_result r{.why = why};
    if (why == reason::start_timeout) process_.terminate(options_.stop_timeout);
    const std::string log = read_file(log_file());
    r.collision = collided_port(log);
    r.message = "mosquitto (" + binary_.string() + ", pid " + std::to_string(process_.pid()) + ") " + what +
                "; configuration " + config_file().string() + "; last lines of " + log_file().string() + ":\n" +
                tail_of(log, 2048);
    return r;
  };

  // Phase 1: the log says every listener is up. inotify wakes us when the log grows and the
  // pidfd when the broker exits; the 100 ms cap only guards against a missed event.
  unique_fd notify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (notify) (void)::inotify_add_watch(notify.get(), log_file().c_str(), IN_MODIFY);
  for (;;) {
    if (says_running(read_file(log_file()))) break;
    if (!process_.running()) return failure(reason::broker_exited, "exited during start (" + process_.describe_exit() + ")");
    const milliseconds left = left_until(deadline);
    if (left.count() == 0) {
      return failure(reason::start_timeout, "did not start within " + std::to_string(options_.start_timeout.count()) + " ms");
    }
    std::array<pollfd, 2> fds{{{.fd = process_.exit_fd(), .events = POLLIN, .revents = 0},
                               {.fd = notify.get(), .events = POLLIN, .revents = 0}}};
    (void)::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 100)));
    std::array<char, 4096> drain{};
    while (notify && ::read(notify.get(), drain.data(), drain.size()) > 0) {
    }
  }

  // Phase 2: every listener accepts a connection (and the TLS ones complete a handshake).
  struct endpoint {
    int family;
    std::uint16_t port;
    bool tls;
  };
  std::vector<endpoint> endpoints{{AF_INET, mqtt, false}};
  if (ipv6_) endpoints.push_back({AF_INET6, mqtt, false});
  if (options_.tls_listener) {
    endpoints.push_back({AF_INET, tls, true});
    if (ipv6_) endpoints.push_back({AF_INET6, tls, true});
  }
  for (const auto& e : endpoints) {
    for (;;) {
      const probe_result r = probe(e.family, e.port, e.tls ? &tls_->ca_file() : nullptr, left_until(deadline));
      if (!r.tls_error.empty()) {
        process_.terminate(options_.stop_timeout);
        attempt_result f = failure(reason::tls_handshake, "TLS listener on port " + std::to_string(e.port) + ": " + r.tls_error);
        f.collision.reset();
        return f;
      }
      if (r.connected) break;
      if (!process_.running()) return failure(reason::broker_exited, "exited during start (" + process_.describe_exit() + ")");
      const milliseconds left = left_until(deadline);
      if (left.count() == 0) {
        return failure(reason::start_timeout, "did not accept connections on port " + std::to_string(e.port) +
                                                  " within " + std::to_string(options_.start_timeout.count()) + " ms");
      }
      pollfd p{.fd = process_.exit_fd(), .events = POLLIN, .revents = 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 10)));
    }
  }
  return {.ready = true};
}

void broker_launcher::stop() noexcept {
  process_.terminate(options_.stop_timeout);
  release_data_dir();
}

void broker_launcher::release_data_dir() noexcept {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

std::string broker_launcher::log_tail(std::size_t max_bytes) const {
  std::ifstream in(log_file(), std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes) - 256);
  in.seekg(from);
  std::ostringstream out;
  out << in.rdbuf();
  return tail_of(out.str(), max_bytes);
}

}  // namespace mockhub::server
