#include "rest_server.hpp"

#include <httplib.h>

#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "error_response.hpp"
#include "mock_hub/core/errors.hpp"
#include "pending_calls.hpp"
#include "request_context.hpp"
#include "request_dispatcher.hpp"
#include "rest_errors.hpp"
#include "sas_header.hpp"

namespace mockhub::rest {

namespace {

namespace core_errors = core::errors;
using nlohmann::json;

constexpr const char* json_content_type = "application/json; charset=utf-8";

// x-ms-request-id values: GUID-shaped, from a seeded counter so a seeded run repeats them.
class request_ids {
 public:
  explicit request_ids(std::uint64_t seed) : seed_(seed) {}
  std::string next() {
    const std::uint64_t n = counter_.fetch_add(1);
    const std::uint64_t a = mix(seed_ + 2 * n);
    const std::uint64_t b = mix(seed_ + 2 * n + 1);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
    return buf;
  }

 private:
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  std::uint64_t seed_;
  std::atomic<std::uint64_t> counter_{0};
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Whether the machine has an IPv6 loopback to listen on (containers may have none).
bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Debian's httplib 0.11.4 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into
// the library): with dozens of callers connecting at once the accept queue overflows and some
// connections die before their first answer. Calling listen() again on the bound socket widens
// the queue; the socket is a protected member, hence the subclass.
template <class base>
class wide_backlog : public base {
 public:
  using base::base;
  void widen_backlog(int backlog) { ::listen(this->svr_sock_, backlog); }
  // Closes a socket bound but never listened on (httplib closes it only when listen() ends).
  void unbind() {
    const auto sock = this->svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }
};
using http_server = wide_backlog<httplib::Server>;
using https_server = wide_backlog<httplib::SSLServer>;
constexpr int listen_backlog = 1024;

void widen_backlog(httplib::Server& s) {
  if (auto* h = dynamic_cast<http_server*>(&s)) h->widen_backlog(listen_backlog);
  if (auto* h = dynamic_cast<https_server*>(&s)) h->widen_backlog(listen_backlog);
}
void unbind(httplib::Server& s) {
  if (auto* h = dynamic_cast<http_server*>(&s)) h->unbind();
  if (auto* h = dynamic_cast<https_server*>(&s)) h->unbind();
}

}  // namespace

class rest_server::impl {
 public:
  impl(rest_server_options options, server::hub_executor& executor, core::hub& hub)
      : options_(std::move(options)),
        executor_(executor),
        hub_(hub),
        ids_(options_.seed ? *options_.seed : std::random_device{}()) {}

  ~impl() { stop(); }

  void start() {
    if (!listeners_.empty()) return;
    const bool ipv6 = options_.listen_ipv6 && options_.bind_address == "127.0.0.1" && ipv6_loopback_available();
    // An ephemeral port free on 127.0.0.1 may be taken on ::1: choose again (bounded).
    for (int attempt = 0; listeners_.empty(); ++attempt) {
      auto primary = make_server();
      int bound = -1;
      if (options_.port == 0) {
        bound = primary->bind_to_any_port(options_.bind_address);
      } else if (primary->bind_to_port(options_.bind_address, options_.port)) {
        bound = options_.port;
      }
      if (bound <= 0)
        throw rest_server_error("mockhub REST: cannot listen on " + options_.bind_address + ":" +
                                std::to_string(options_.port));
      std::unique_ptr<httplib::Server> v6;
      if (ipv6) {
        v6 = make_server();
        if (!v6->bind_to_port("::1", bound)) {
          unbind(*primary);
          if (options_.port == 0 && attempt < 50) continue;
          throw rest_server_error("mockhub REST: cannot listen on [::1]:" + std::to_string(bound) +
                                  " (the port is taken on the IPv6 loopback)");
        }
      }
      port_ = static_cast<std::uint16_t>(bound);
      listeners_.push_back(std::make_unique<listener>(std::move(primary)));
      if (v6) listeners_.push_back(std::make_unique<listener>(std::move(v6)));
    }
    for (auto& l : listeners_) {
      widen_backlog(*l->server);
      l->thread = std::thread([l = l.get()] {
        l->server->listen_after_bind();
        l->done = true;
      });
    }
    // stop() is only effective once the accept loop runs; connections made before that wait
    // in the listen backlog, so this wait is short and never misses a client.
    for (auto& l : listeners_) {
      while (!l->server->is_running() && !l->done) std::this_thread::yield();
      if (!l->server->is_running()) {
        stop();
        throw rest_server_error("mockhub REST: the server on " + options_.bind_address + ":" + std::to_string(port_) +
                                " stopped as it started");
      }
    }
  }

  void stop() {
    if (listeners_.empty()) return;
    calls_.cancel_all();
    for (auto& l : listeners_) l->server->stop();
    for (auto& l : listeners_)
      if (l->thread.joinable()) l->thread.join();
    listeners_.clear();
  }

  std::uint16_t port() const noexcept { return port_; }
  bool listening_ipv6() const noexcept { return listeners_.size() > 1; }
  const rest_server_options& options() const noexcept { return options_; }

 private:
  // One httplib server, configured to route everything to handle(); not yet bound.
  std::unique_ptr<httplib::Server> make_server() {
    std::unique_ptr<httplib::Server> http;
    if (options_.tls) {
      const auto cert = options_.tls->certificate.string();
      const auto key = options_.tls->private_key.string();
      auto https = std::make_unique<https_server>(cert.c_str(), key.c_str());
      if (!https->is_valid())
        throw rest_server_error("mockhub REST: cannot load the TLS certificate " + cert + " or its key " + key);
      http = std::move(https);
    } else {
      http = std::make_unique<http_server>();
    }
    const std::size_t threads = options_.threads == 0 ? 1 : options_.threads;
    http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http->set_payload_max_length(options_.max_body_bytes);
    http->set_keep_alive_max_count(1000);
    http->set_tcp_nodelay(true);
    // httplib's default sets SO_REUSEPORT, with which a second server of the same user binds a
    // port that is already in use and shares its connections; SO_REUSEADDR alone refuses it.
    http->set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });

    // Every method, every path: routing is ours (on the raw target, so that %2F stays in an id).
    const std::string any = "[\\s\\S]*";
    const auto h = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    http->Get(any, h).Post(any, h).Put(any, h).Patch(any, h).Delete(any, h).Options(any, h);
    // What httplib answers by itself (no route for a method, a body over the limit, a request it
    // cannot parse) still gets the hub's error shape.
    http->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (res.has_header("x-ms-request-id")) return httplib::Server::HandlerResponse::Unhandled;
          render_protocol_error(req, res);
          return httplib::Server::HandlerResponse::Handled;
        }));
    http->set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      const std::string request_id = ids_.next();
      res.headers.clear();
      write(error_response(core_errors::server_error("The hub failed to serve the request."), request_id,
                           core::time_point{}),
            res, request_id);
    });
    return http;
  }

  // One httplib server per address (an httplib server listens on one socket), each with its
  // accept thread; all of them serve through this impl.
  struct listener {
    explicit listener(std::unique_ptr<httplib::Server> s) : server(std::move(s)) {}
    std::unique_ptr<httplib::Server> server;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  // The hub's time, for error timestamps; the system clock once the executor has stopped.
  core::time_point hub_time() {
    try {
      return executor_.call([this] { return hub_.time().now(); });
    } catch (...) {
      return std::chrono::system_clock::now();
    }
  }

  rest_response error_response(const core::hub_error& e, const std::string& request_id, core::time_point now) {
    return rest::error_response(e, request_id, now == core::time_point{} ? hub_time() : now);
  }

  static void write(const rest_response& out, httplib::Response& res, const std::string& request_id) {
    res.status = out.status;
    for (const auto& [name, value] : out.headers) res.set_header(name.c_str(), value);
    res.set_header("x-ms-request-id", request_id);
    if (out.json_text) {
      res.set_content(*out.json_text, json_content_type);
    } else if (out.body) {
      res.set_content(dump(*out.body), json_content_type);
    }
  }

  // The observer's view of a request and of a response (httplib's header maps as lists).
  std::uint64_t observe_request(const httplib::Request& req) {
    if (!options_.observer) return 0;
    const auto question = req.target.find('?');
    const std::string_view target(req.target);
    trace::header_list headers(req.headers.begin(), req.headers.end());
    for (auto& [name, value] : headers)  // as the client sent it, so the observer can read the policy name
      if (::strcasecmp(name.c_str(), "Authorization") == 0) value = restore_sas_encoding(value);
    return options_.observer->http_request(
        {.method = req.method,
         .path = target.substr(0, question),
         .query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1),
         .headers = headers,
         .body = req.body,
         .tls = options_.tls.has_value()});
  }
  void observe_response(std::uint64_t exchange, const httplib::Response& res) {
    if (!options_.observer) return;
    trace::header_list headers(res.headers.begin(), res.headers.end());
    options_.observer->http_response(exchange, {.status = res.status, .headers = headers, .body = res.body});
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    const std::uint64_t exchange = observe_request(req);
    const std::string request_id = ids_.next();
    request_context c(executor_, hub_, calls_, options_.method_wait_margin, options_.credentials_barrier,
                      options_.advance_clock);
    c.method = req.method;
    const auto question = req.target.find('?');
    c.path = req.target.substr(0, question);
    for (const auto& [name, value] : req.headers) c.headers.emplace_back(name, value);
    for (const auto& [name, value] : req.params) c.query_params.emplace_back(name, value);

    const rest_response out = serve_request(c, req.body, options_.max_body_bytes, request_id);
    write(out, res, request_id);
    observe_response(exchange, res);
  }

  void render_protocol_error(const httplib::Request& req, httplib::Response& res) {
    const std::uint64_t exchange = observe_request(req);
    const std::string request_id = ids_.next();
    const std::string path = req.target.substr(0, req.target.find('?'));
    core::hub_error e = [&]() -> core::hub_error {
      switch (res.status) {
        case 413:
          return core_errors::message_too_large("The request body is over the limit of " +
                                                std::to_string(options_.max_body_bytes) + " bytes.");
        case 404:
          return errors::resource_not_found(req.method, path);
        case 400:
          return core_errors::generic_bad_request("The HTTP request is malformed.");
        default:
          return core::hub_error(res.status * 1000, "GenericError", "The HTTP request failed.");
      }
    }();
    res.headers.clear();
    write(error_response(e, request_id, core::time_point{}), res, request_id);
    observe_response(exchange, res);
  }

  rest_server_options options_;
  server::hub_executor& executor_;
  core::hub& hub_;
  pending_calls calls_;
  request_ids ids_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::uint16_t port_ = 0;
};

rest_server::rest_server(rest_server_options options, server::hub_executor& executor, core::hub& hub)
    : impl_(std::make_unique<impl>(std::move(options), executor, hub)) {}

rest_server::~rest_server() = default;

void rest_server::start() { impl_->start(); }
void rest_server::stop() { impl_->stop(); }
std::uint16_t rest_server::port() const noexcept { return impl_->port(); }
bool rest_server::is_tls() const noexcept { return impl_->options().tls.has_value(); }
bool rest_server::listening_ipv6() const noexcept { return impl_->listening_ipv6(); }
const rest_server_options& rest_server::options() const noexcept { return impl_->options(); }

}  // namespace mockhub::rest
