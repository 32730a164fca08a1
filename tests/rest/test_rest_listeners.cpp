// Where the REST server listens: 127.0.0.1 and ::1 on the same port (clients that resolve
// `localhost` to ::1 first reach it too), and a port that is already in use is refused, never shared.
#include "rest_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/temp_dir.hpp"
#include "mock_hub/server/tls_material.hpp"

using mockhub::test::body_of;
using mockhub::test::rest_fixture;

namespace {

// A listening socket on a loopback address (port 0: ephemeral), closed at the end of scope.
class held_port {
 public:
  held_port(int family, std::uint16_t port) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage a{};
    socklen_t len = 0;
    if (family == AF_INET6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
      a6->sin6_family = AF_INET6;
      a6->sin6_addr = in6addr_loopback;
      a6->sin6_port = htons(port);
      len = sizeof(sockaddr_in6);
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
      a4->sin_family = AF_INET;
      a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a4->sin_port = htons(port);
      len = sizeof(sockaddr_in);
    }
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_, 1) == 0;
    if (ok_ && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                                       : reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  }
  ~held_port() {
    if (fd_ >= 0) ::close(fd_);
  }
  held_port(const held_port&) = delete;
  held_port& operator=(const held_port&) = delete;
  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
};

// A hub core on an executor, for rest_servers built by the test itself.
struct bare_hub {
  mockhub::core::virtual_clock clk;
  mockhub::core::id_source ids{1};
  mockhub::test::fake_devices devices{clk};
  mockhub::server::hub_executor executor{clk, mockhub::server::hub_executor::timers::virtual_time};
  std::unique_ptr<mockhub::core::hub> hub = executor.call(
      [&] { return std::make_unique<mockhub::core::hub>(mockhub::core::hub_options{}, clk, ids, devices); });
  ~bare_hub() {
    executor.call([&] { hub.reset(); });
  }
};

}  // namespace

TEST_CASE("The API answers on ::1 as on 127.0.0.1, on the same port, over HTTP and HTTPS", "[rest][listeners]") {
  if (!held_port(AF_INET6, 0).ok()) {
    WARN("no IPv6 loopback on this machine: nothing to check");
    return;
  }
  SECTION("HTTP") {
    rest_fixture hub;
    hub.add_device("dev1");
    REQUIRE(hub.listening_ipv6());
    for (const char* address : {"127.0.0.1", "::1"}) {
      INFO(address);
      httplib::Client client(address, hub.port());
      const auto r = client.Get(rest_fixture::with_api("/devices/dev1"), hub.auth());
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(body_of(r)["deviceId"] == "dev1");
    }
  }
  SECTION("HTTPS on ::1") {
    mockhub::test::temp_dir dir;
    const auto tls = mockhub::server::tls_material::ensure(dir.path());
    rest_fixture hub({.tls = mockhub::rest::tls_files{tls.server_cert_file(), tls.server_key_file()}});
    hub.add_device("dev1");
    REQUIRE(hub.listening_ipv6());
    // Not verified here: Debian's httplib 0.11.4 reads past an IPv6 SAN when it checks an IP host
    // (an ASan report inside libcpp-httplib). That the certificate names ::1 is tls_material's test.
    httplib::SSLClient client("::1", hub.port());
    client.enable_server_certificate_verification(false);
    const auto r = client.Get(rest_fixture::with_api("/devices/dev1"), hub.auth());
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r)["deviceId"] == "dev1");
  }
}

TEST_CASE("listen_ipv6 false listens on 127.0.0.1 only", "[rest][listeners]") {
  bare_hub h;
  mockhub::rest::rest_server server({.listen_ipv6 = false}, h.executor, *h.hub);
  server.start();
  CHECK_FALSE(server.listening_ipv6());
  CHECK(held_port(AF_INET6, server.port()).ok());  // ::1 on that port stays free
  server.stop();
}

TEST_CASE("A fixed port already in use is refused with an error naming it, never shared", "[rest][listeners]") {
  bare_hub h;
  SECTION("taken on 127.0.0.1 by another REST server (httplib alone would share it through SO_REUSEPORT)") {
    mockhub::rest::rest_server first({}, h.executor, *h.hub);
    first.start();
    mockhub::rest::rest_server second({.port = first.port()}, h.executor, *h.hub);
    try {
      second.start();
      FAIL("start() succeeded on a port another server listens on");
    } catch (const mockhub::rest::rest_server_error& e) {
      CHECK(std::string(e.what()) == "mockhub REST: cannot listen on 127.0.0.1:" + std::to_string(first.port()));
    }
    first.stop();
  }
  SECTION("taken on ::1 only: the error names ::1, and 127.0.0.1 is released again") {
    held_port v6(AF_INET6, 0);
    if (!v6.ok()) {
      WARN("no IPv6 loopback on this machine: nothing to check");
      return;
    }
    if (!held_port(AF_INET, v6.port()).ok()) {
      WARN("the port is taken on 127.0.0.1 too, by someone else: nothing to check this time");
      return;
    }
    mockhub::rest::rest_server server({.port = v6.port()}, h.executor, *h.hub);
    try {
      server.start();
      FAIL("start() succeeded on a port taken on ::1");
    } catch (const mockhub::rest::rest_server_error& e) {
      CHECK(std::string(e.what()) ==
            "mockhub REST: cannot listen on [::1]:" + std::to_string(v6.port()) + " (the port is taken on the IPv6 loopback)");
    }
    CHECK(held_port(AF_INET, v6.port()).ok());
  }
}
