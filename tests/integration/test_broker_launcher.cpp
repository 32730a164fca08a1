#include "mock_hub/server/broker_launcher.hpp"
#include "mqtt_test_client.hpp"
#include "temp_dir.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

using mockhub::server::broker_launch_error;
using mockhub::server::broker_launcher;
using mockhub::server::broker_options;
using mockhub::test::mqtt_test_client;
using mockhub::test::temp_dir;
using reason = broker_launch_error::reason;
using namespace std::chrono_literals;

namespace {

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Waits (bounded) until `pid` no longer exists. Event-driven: a pidfd turns readable when the
// process exits; if it is our child (directly or as subreaper) it is reaped so that it vanishes.
bool wait_until_gone(pid_t pid, std::chrono::milliseconds bound) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const auto deadline = std::chrono::steady_clock::now() + bound;
  bool gone = false;
  while (!(gone = !process_exists(pid)) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{.fd = pidfd, .events = POLLIN, .revents = 0};
    if (pidfd < 0 || ::poll(&p, 1, 1000) == 1) (void)::waitpid(pid, nullptr, WNOHANG);
    if (pidfd < 0) {  // no pidfd: the process is already gone or not ours to watch
      gone = !process_exists(pid);
      break;
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return gone;
}

// "Max open files            1024                 524288               files"
std::pair<unsigned long long, unsigned long long> open_file_limits(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(std::string("Max open files").size()));
      std::string soft, hard;
      fields >> soft >> hard;
      const auto value = [](const std::string& s) { return s == "unlimited" ? ~0ULL : std::stoull(s); };
      return {value(soft), value(hard)};
    }
  }
  FAIL("no open-file limit in /proc/" << pid << "/limits");
  return {};
}

// A listening socket on 127.0.0.1, as another server would hold it.
struct occupied_port {
  int fd = -1;
  std::uint16_t port = 0;
  occupied_port() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  occupied_port(const occupied_port&) = delete;
  occupied_port& operator=(const occupied_port&) = delete;
  ~occupied_port() { ::close(fd); }
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The certificate verification result a TLS client trusting `cafile` and expecting `host` gets
// from the listener on 127.0.0.1:`port` (X509_V_OK when the handshake verifies). OpenSSL is
// driven directly: libmosquitto 2.0.11's mosquitto_connect() sometimes reports success for a
// failed handshake (its SSL_ERROR_SYSCALL path) and then never calls back.
long verify_result(std::uint16_t port, const std::string& cafile, const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const timeval bound{.tv_sec = 30, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  REQUIRE(SSL_CTX_load_verify_locations(ctx.get(), cafile.c_str(), nullptr) == 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_fd(ssl.get(), fd);
  if (X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get()); X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
    REQUIRE(SSL_set1_host(ssl.get(), host.c_str()) == 1);
  }
  const bool ok = SSL_connect(ssl.get()) == 1;
  const long result = SSL_get_verify_result(ssl.get());
  if (ok) SSL_shutdown(ssl.get());
  ::close(fd);
  CHECK(ok == (result == X509_V_OK));
  return result;
}

void require_round_trip(mqtt_test_client& from, mqtt_test_client& to, const std::string& topic) {
  REQUIRE(to.subscribe(topic, 1));
  REQUIRE(from.publish(topic, "hello " + topic, 1));
  const auto got = to.next_message();
  REQUIRE(got);
  CHECK(got->topic == topic);
  CHECK(got->payload == "hello " + topic);
}

}  // namespace

TEST_CASE("A broker on ephemeral ports serves plain and TLS clients and is gone after stop", "[integration][broker]") {
  temp_dir dir;
  broker_launcher broker({.data_dir = dir.path(),
                          .tls_listener = true,
                          .tls = {.host_names = {"mockhub.azure-devices.net"}}});
  broker.start();

  REQUIRE(broker.running());
  const pid_t pid = broker.pid();
  CHECK(pid > 0);
  CHECK(broker.mqtt_port() != 0);
  CHECK(broker.tls_port() != 0);
  CHECK(broker.mqtt_port() != broker.tls_port());
  CHECK(broker.ca_file() == dir.path() / "ca.pem");
  CHECK(std::filesystem::exists(broker.ca_file()));
  CHECK(broker.mosquitto_binary() == "/usr/sbin/mosquitto");

  const std::string conf = read_text(broker.config_file());
  CHECK_THAT(conf, Catch::Matchers::Contains("per_listener_settings false\n"));
  CHECK_THAT(conf, Catch::Matchers::Contains("set_tcp_nodelay true\n"));
  CHECK_THAT(conf, Catch::Matchers::Contains("allow_anonymous true\n"));
  CHECK_THAT(conf, Catch::Matchers::Contains("listener " + std::to_string(broker.mqtt_port()) + " 127.0.0.1\n"));
  CHECK_THAT(conf, Catch::Matchers::Contains("listener " + std::to_string(broker.tls_port()) + " 127.0.0.1\ncafile "));

  mqtt_test_client plain("plain-client");
  REQUIRE(plain.connect("127.0.0.1", broker.mqtt_port()) == 0);

  mqtt_test_client tls_by_name("tls-by-name");
  tls_by_name.use_tls(broker.ca_file());
  REQUIRE(tls_by_name.connect("localhost", broker.tls_port()) == 0);

  mqtt_test_client tls_by_ip("tls-by-ip");
  tls_by_ip.use_tls(broker.ca_file());
  REQUIRE(tls_by_ip.connect("127.0.0.1", broker.tls_port()) == 0);

  require_round_trip(plain, tls_by_name, "devices/dev1/messages/events/");
  require_round_trip(tls_by_ip, plain, "devices/dev2/messages/events/");

  if (broker.listening_ipv6()) {
    mqtt_test_client v6("tls-v6");
    v6.use_tls(broker.ca_file());
    CHECK(v6.connect("::1", broker.tls_port()) == 0);
  }

  SECTION("the TLS listener verifies for every name of the certificate, and only for those") {
    const std::string ca = broker.ca_file();
    for (const char* name : {"localhost", "127.0.0.1", "::1", "mockhub.azure-devices.net"}) {
      INFO(name);
      CHECK(verify_result(broker.tls_port(), ca, name) == X509_V_OK);
    }
    CHECK(verify_result(broker.tls_port(), ca, "other.azure-devices.net") == X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(verify_result(broker.tls_port(), ca, "127.0.0.2") == X509_V_ERR_IP_ADDRESS_MISMATCH);
  }

  SECTION("a client trusting another CA is refused at the TLS handshake") {
    temp_dir other;
    const auto foreign = mockhub::server::tls_material::ensure(other.path());
    // mosquitto's OpenSSL sends the CA along (auto-chain from the listener's cafile), so the
    // stranger sees a self-signed root it does not trust.
    CHECK(verify_result(broker.tls_port(), foreign.ca_file(), "localhost") == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  }

  SECTION("stop ends the broker and reaps it") {
    broker.stop();
    CHECK_FALSE(broker.running());
    CHECK(broker.pid() == pid);
    errno = 0;
    CHECK(::kill(pid, 0) == -1);
    CHECK(errno == ESRCH);
    CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
    broker.stop();  // idempotent
  }
}

TEST_CASE("TLS material is reused on the next start and regenerated for another host name", "[integration][broker][tls]") {
  temp_dir dir;
  std::string fingerprint;
  {
    broker_launcher first({.data_dir = dir.path(), .tls_listener = true, .tls = {.host_names = {"hub-a.example.test"}}});
    first.start();
    REQUIRE(first.tls() != nullptr);
    CHECK(first.tls()->generated_ca());
    fingerprint = first.tls()->ca_fingerprint();
  }
  {
    broker_launcher again({.data_dir = dir.path(), .tls_listener = true, .tls = {.host_names = {"hub-a.example.test"}}});
    again.start();
    CHECK_FALSE(again.tls()->generated_ca());
    CHECK_FALSE(again.tls()->generated_server_certificate());
    CHECK(again.tls()->ca_fingerprint() == fingerprint);
  }
  broker_launcher renamed({.data_dir = dir.path(), .tls_listener = true, .tls = {.host_names = {"hub-b.example.test"}}});
  renamed.start();
  CHECK_FALSE(renamed.tls()->generated_ca());
  CHECK(renamed.tls()->generated_server_certificate());
  CHECK(renamed.tls()->ca_fingerprint() == fingerprint);

  mqtt_test_client client("after-rename");
  client.use_tls(renamed.ca_file());
  CHECK(client.connect("localhost", renamed.tls_port()) == 0);
}

TEST_CASE("A port that is already taken", "[integration][broker]") {
  temp_dir dir;
  occupied_port taken;

  SECTION("with retry_on_port_collision, the broker comes up on another port") {
    broker_launcher broker({.data_dir = dir.path(), .mqtt_port = taken.port, .retry_on_port_collision = true});
    broker.start();
    CHECK(broker.running());
    CHECK(broker.mqtt_port() != taken.port);
    mqtt_test_client client("moved");
    CHECK(client.connect("127.0.0.1", broker.mqtt_port()) == 0);
  }
  SECTION("a taken TLS port moves only the TLS listener") {
    broker_launcher broker({.data_dir = dir.path(), .tls_listener = true, .tls_port = taken.port,
                            .retry_on_port_collision = true});
    broker.start();
    CHECK(broker.tls_port() != taken.port);
    CHECK(broker.tls_port() != 0);
  }
  SECTION("with a fixed port and no retry, the start fails and says which port") {
    broker_launcher broker({.data_dir = dir.path(), .mqtt_port = taken.port});
    try {
      broker.start();
      FAIL("start() succeeded on a taken port");
    } catch (const broker_launch_error& e) {
      CHECK(e.why() == reason::port_in_use);
      CHECK_THAT(e.what(), Catch::Matchers::StartsWith("port " + std::to_string(taken.port) + " on 127.0.0.1"));
      CHECK_THAT(e.what(), Catch::Matchers::Contains("retry_on_port_collision"));
      CHECK_THAT(e.what(), Catch::Matchers::Contains("Address already in use"));
    }
    CHECK_FALSE(broker.running());
  }
}

TEST_CASE("A missing mosquitto binary names the package to install", "[integration][broker]") {
  temp_dir dir;
  const auto expect = [&](const std::filesystem::path& binary, const std::string& mentions) {
    broker_launcher broker({.data_dir = dir.path(), .mosquitto_binary = binary});
    try {
      broker.start();
      FAIL("start() succeeded without a broker binary");
    } catch (const broker_launch_error& e) {
      CHECK(e.why() == reason::binary_not_found);
      CHECK_THAT(e.what(), Catch::Matchers::Contains("apt-get install mosquitto"));
      CHECK_THAT(e.what(), Catch::Matchers::Contains(mentions));
    }
  };
  SECTION("a path") { expect("/nonexistent/sbin/mosquitto", "not found at /nonexistent/sbin/mosquitto"); }
  SECTION("a name looked up on PATH") { expect("mockhub-no-such-mosquitto", "`mockhub-no-such-mosquitto` not found on PATH"); }
  SECTION("a file that is not executable") {
    std::ofstream(dir / "mosquitto") << "#!/bin/sh\n";
    std::filesystem::permissions(dir / "mosquitto", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    expect(dir / "mosquitto", "missing or not executable");
  }
}

TEST_CASE("A missing plugin says to build the mockhub broker plugin", "[integration][broker]") {
  temp_dir dir;
  broker_launcher broker({.data_dir = dir.path(), .plugin = dir / "mockhub_broker_plugin.so"});
  try {
    broker.start();
    FAIL("start() succeeded without the plugin file");
  } catch (const broker_launch_error& e) {
    CHECK(e.why() == reason::plugin_not_found);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("mosquitto plugin not found: " + (dir / "mockhub_broker_plugin.so").string()));
    CHECK_THAT(e.what(), Catch::Matchers::Contains("build the mockhub broker plugin"));
  }
}

TEST_CASE("A broker that exits during start reports its log", "[integration][broker]") {
  temp_dir dir;
  std::ofstream(dir / "not-a-plugin.so") << "this is not a shared object\n";
  broker_launcher broker({.data_dir = dir.path(),
                          .plugin = dir / "not-a-plugin.so",
                          .plugin_options = {{"hub_secret", "x"}}});
  try {
    broker.start();
    FAIL("start() succeeded with a plugin that cannot load");
  } catch (const broker_launch_error& e) {
    CHECK(e.why() == reason::broker_exited);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("exited during start (exited with status"));
    CHECK_THAT(e.what(), Catch::Matchers::Contains("Load error"));
    CHECK_THAT(e.what(), Catch::Matchers::Contains((dir / "mosquitto.log").string()));
  }
  CHECK_FALSE(broker.running());
  const std::string conf = read_text(broker.config_file());
  CHECK_THAT(conf, Catch::Matchers::Contains("allow_anonymous false\n"));
  CHECK_THAT(conf, Catch::Matchers::Contains("plugin_opt_hub_secret x\n"));
  struct stat st{};
  REQUIRE(::stat(broker.config_file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777U) == 0600U);
}

TEST_CASE("Options that cannot work are refused before anything starts", "[integration][broker]") {
  temp_dir dir;
  const auto refused = [](const broker_options& options, const std::string& says) {
    try {
      broker_launcher broker(options);
      FAIL("accepted: " << says);
    } catch (const broker_launch_error& e) {
      CHECK(e.why() == reason::invalid_options);
      CHECK_THAT(e.what(), Catch::Matchers::Contains(says));
    }
  };
  refused({}, "data_dir is not set");
  refused({.data_dir = dir.path(), .mqtt_port = 41000, .tls_listener = true, .tls_port = 41000}, "mqtt_port and tls_port are both 41000");
  refused({.data_dir = dir.path(), .tls_port = 41000}, "tls_port is set but tls_listener is false");
  refused({.data_dir = dir.path(), .plugin_options = {{"k", "v"}}}, "plugin_options are set but no plugin");
  CHECK_FALSE(std::filesystem::exists(dir / "mosquitto.conf"));
}

TEST_CASE("A data directory serves one running broker at a time", "[integration][broker]") {
  temp_dir dir;
  broker_launcher first({.data_dir = dir.path()});
  first.start();
  broker_launcher second({.data_dir = dir.path()});
  try {
    second.start();
    FAIL("two brokers started in one data directory");
  } catch (const broker_launch_error& e) {
    CHECK(e.why() == reason::data_dir_in_use);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("give each broker its own data_dir"));
  }
  first.stop();
  second.start();
  CHECK(second.running());
}

TEST_CASE("The broker does not outlive the process that started it", "[integration][broker]") {
  temp_dir dir;
  // The broker is our grandchild; once its parent dies it is re-parented to us and we can reap
  // it (the container's init may not reap at all, and a zombie still answers kill(pid, 0)).
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int to_test[2];
  REQUIRE(::pipe2(to_test, O_CLOEXEC) == 0);

  const pid_t middle = ::fork();
  REQUIRE(middle >= 0);
  if (middle == 0) {
    ::close(to_test[0]);
    pid_t broker_pid = 0;
    try {
      auto* broker = new broker_launcher({.data_dir = dir.path()});  // never stopped: this process is killed
      broker->start();
      broker_pid = broker->pid();
    } catch (...) {
    }
    [[maybe_unused]] const ssize_t n = ::write(to_test[1], &broker_pid, sizeof broker_pid);
    for (;;) ::pause();
  }
  ::close(to_test[1]);

  pid_t broker_pid = 0;
  pollfd p{.fd = to_test[0], .events = POLLIN, .revents = 0};
  REQUIRE(::poll(&p, 1, 60'000) == 1);
  REQUIRE(::read(to_test[0], &broker_pid, sizeof broker_pid) == static_cast<ssize_t>(sizeof broker_pid));
  ::close(to_test[0]);
  REQUIRE(broker_pid > 0);
  REQUIRE(process_exists(broker_pid));

  REQUIRE(::kill(middle, SIGKILL) == 0);
  REQUIRE(::waitpid(middle, nullptr, 0) == middle);
  CHECK(wait_until_gone(broker_pid, 30s));
}

TEST_CASE("The broker outlives the thread that started it", "[integration][broker]") {
  temp_dir dir;
  broker_launcher broker({.data_dir = dir.path()});
  std::thread([&] { broker.start(); }).join();
  // PR_SET_PDEATHSIG follows the forking thread; the launcher forks from a long-lived one.
  REQUIRE(broker.running());
  mqtt_test_client client("after-thread");
  CHECK(client.connect("127.0.0.1", broker.mqtt_port()) == 0);
  CHECK(broker.running());
}

TEST_CASE("The broker's open-file limit is raised", "[integration][broker]") {
  temp_dir dir;
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Start from a low soft limit, as a login shell has, and see the broker get far more.
  const rlimit low{std::min<rlim_t>(1024, saved.rlim_max), saved.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  broker_launcher broker({.data_dir = dir.path()});
  try {
    broker.start();
  } catch (...) {
    ::setrlimit(RLIMIT_NOFILE, &saved);
    throw;
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);

  const auto [soft, hard] = open_file_limits(broker.pid());
  INFO("broker soft " << soft << " hard " << hard << "; ours was soft " << low.rlim_cur << " hard " << saved.rlim_max);
  CHECK(soft == hard);
  CHECK(hard >= saved.rlim_max);
  if (saved.rlim_max > 1024) CHECK(soft > 1024);
  if (saved.rlim_max >= 10240 || ::geteuid() == 0) CHECK(soft >= 10240);
}

TEST_CASE("Several brokers start in parallel in one process", "[integration][broker]") {
  temp_dir dir;
  constexpr int count = 3;
  std::vector<std::unique_ptr<broker_launcher>> brokers;
  for (int i = 0; i < count; ++i) {
    brokers.push_back(std::make_unique<broker_launcher>(broker_options{
        .data_dir = dir / ("broker-" + std::to_string(i)),
        .tls_listener = true,
        .tls_dir = dir / "tls",
    }));
  }
  std::vector<std::future<void>> started;
  for (auto& b : brokers) started.push_back(std::async(std::launch::async, [&b] { b->start(); }));
  for (auto& s : started) s.get();

  std::set<std::uint16_t> ports;
  std::set<std::string> fingerprints;
  for (auto& b : brokers) {
    CHECK(b->running());
    ports.insert(b->mqtt_port());
    ports.insert(b->tls_port());
    fingerprints.insert(b->tls()->ca_fingerprint());
    mqtt_test_client client("parallel-" + std::to_string(b->mqtt_port()));
    client.use_tls(b->ca_file());
    CHECK(client.connect("localhost", b->tls_port()) == 0);
  }
  CHECK(ports.size() == 2 * count);
  CHECK(fingerprints.size() == 1);

  std::vector<std::future<void>> stopped;
  for (auto& b : brokers) stopped.push_back(std::async(std::launch::async, [&b] { b->stop(); }));
  for (auto& s : stopped) s.get();
  for (auto& b : brokers) CHECK_FALSE(process_exists(b->pid()));
}
