#include "http_transport.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <fstream>
#include <stdexcept>

#include "errors.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/sas_token.hpp"

namespace mockhub::service::detail {

namespace {

// Idle kept-alive connections kept for reuse; more concurrent callers simply open more.
constexpr std::size_t max_idle_connections = 8;

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string describe_request(const http_request& r) { return r.method + " " + r.path; }

std::string tls_verify_reason(long verify_result) {
  if (verify_result == X509_V_OK) return "the certificate does not cover the host name";
  return X509_verify_cert_error_string(verify_result);
}

}  // namespace

std::string http_response::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

std::string encode_component(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' || c == ')';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

// One kept-alive connection (an httplib client) that one request at a time uses.
struct http_transport::connection_slot {
  std::unique_ptr<httplib::Client> client;
};

http_transport::http_transport(service_connection_string connection, client_options options)
    : connection_(std::move(connection)), options_(std::move(options)) {
  endpoint_ = options_.endpoint_override ? *options_.endpoint_override : endpoint{.scheme = "https", .host = connection_.host_name};
  if (endpoint_.scheme != "https" && endpoint_.scheme != "http")
    throw std::invalid_argument("endpoint scheme '" + endpoint_.scheme + "': use https or http");
  if (endpoint_.host.empty()) throw std::invalid_argument("endpoint: the host is empty");
  base_url_ = endpoint_.to_string();
  if (!options_.ca_file.empty()) {
    std::ifstream probe(options_.ca_file);
    if (!probe) throw std::invalid_argument("CA file '" + options_.ca_file.string() + "' cannot be read");
  }
  // Sign once now, so that a key that is not base64 fails here rather than on the first call.
  (void)sign();
}

http_transport::~http_transport() = default;

std::string http_transport::sign() const {
  try {
    return core::sas_token::create(connection_.host_name, connection_.key,
                                   std::chrono::system_clock::now() + options_.token_lifetime, connection_.key_name);
  } catch (const core::hub_error& e) {
    throw std::invalid_argument("service connection string: the SharedAccessKey cannot sign (" + std::string(e.message()) + ")");
  }
}

std::unique_ptr<http_transport::connection_slot> http_transport::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto slot = std::move(idle_.back());
      idle_.pop_back();
      return slot;
    }
  }
  auto slot = std::make_unique<connection_slot>();
  slot->client = std::make_unique<httplib::Client>(base_url_);
  auto& c = *slot->client;
  c.set_keep_alive(true);
  // httplib writes a request's headers and its body separately: with Nagle the body waits for the
  // ACK of the headers, which the peer delays by 40 ms (every PUT/PATCH/POST took ~44 ms in the soak).
  c.set_tcp_nodelay(true);
  // Paths and query strings are encoded here (encode_component), not again by httplib.
  c.set_url_encode(false);
  c.set_connection_timeout(options_.connect_timeout);
  if (endpoint_.scheme == "https") {
    c.enable_server_certificate_verification(true);
    if (!options_.ca_file.empty()) {
      c.set_ca_cert_path(options_.ca_file.string());
    } else {
      // The system trust store, explicitly: the SSL context takes ownership of the store.
      X509_STORE* store = X509_STORE_new();
      if (store == nullptr || X509_STORE_set_default_paths(store) != 1) {
        X509_STORE_free(store);
        throw network_error(network_error::kind::ca_file, "cannot load the system's trust store");
      }
      c.set_ca_cert_store(store);
    }
  }
  return slot;
}

void http_transport::release(std::unique_ptr<connection_slot> slot) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_connections) idle_.push_back(std::move(slot));
}

http_response http_transport::send(const http_request& request) {
  std::string target = request.path + "?api-version=" + std::string(api_version);
  for (const auto& [name, value] : request.query) target += "&" + encode_component(name) + "=" + encode_component(value);

  httplib::Request req;
  req.method = request.method;
  req.path = target;
  req.set_header("Authorization", sign());
  req.set_header("User-Agent", options_.user_agent);
  for (const auto& [name, value] : request.headers) req.set_header(name, value);
  if (request.body) {
    req.set_header("Content-Type", "application/json; charset=utf-8");
    req.body = *request.body;
  }
  const auto timeout = request.timeout.value_or(options_.request_timeout);

  for (int attempt = 0;; ++attempt) {
    auto slot = acquire();
    auto& client = *slot->client;
    const bool reused = client.is_socket_open() != 0;
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    auto result = client.send(req);
    if (result) {
      http_response out;
      out.status = result->status;
      for (const auto& [name, value] : result->headers) out.headers.emplace(lower(name), value);
      out.body = std::move(result->body);
      release(std::move(slot));
      return out;
    }
    const auto error = result.error();
    // A kept-alive connection the server closed while it was idle fails on first use: send again,
    // once, on a new connection, when sending twice cannot do harm.
    if (attempt == 0 && reused && request.retry_safe && (error == httplib::Error::Read || error == httplib::Error::Write))
      continue;
    const std::string where = " (" + describe_request(request) + " to " + base_url_ + ")";
    switch (error) {
      case httplib::Error::Connection:
        throw network_error(network_error::kind::connect, "cannot connect to the hub" + where);
      case httplib::Error::ConnectionTimeout:
        throw network_error(network_error::kind::connect_timeout, "connecting to the hub timed out" + where);
      case httplib::Error::SSLConnection:
        throw network_error(network_error::kind::tls, "the TLS handshake with the hub failed" + where);
      case httplib::Error::SSLServerVerification:
        throw network_error(network_error::kind::certificate,
                            "the hub's certificate is not trusted: " + tls_verify_reason(client.get_openssl_verify_result()) +
                                (options_.ca_file.empty() ? " (no CA file given: the system trust store was used)"
                                                          : " (CA file " + options_.ca_file.string() + ")") +
                                where);
      case httplib::Error::SSLLoadingCerts:
        throw network_error(network_error::kind::ca_file, "cannot load the CA file '" + options_.ca_file.string() + "'" + where);
      case httplib::Error::Read:
      case httplib::Error::Write:
        throw network_error(network_error::kind::timeout_or_closed,
                            "no answer from the hub: the connection closed or " + std::to_string(timeout.count()) +
                                " ms passed" + where);
      default:
        throw network_error(network_error::kind::other, "the request failed: " + httplib::to_string(error) + where);
    }
  }
}

nlohmann::json http_transport::call(const http_request& request, http_response* response) {
  http_response r = send(request);
  if (r.status < 200 || r.status >= 300) throw parse_error_response(r.status, r.headers, r.body);
  nlohmann::json body;
  if (!r.body.empty()) {
    body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded())
      throw network_error(network_error::kind::bad_response, "the hub answered " + describe_request(request) + " with a body that is not JSON");
  }
  if (response) *response = std::move(r);
  return body;
}

raw_page fetch_page(http_transport& transport, http_request request, int page_size, const std::string& continuation) {
  if (page_size > 0) request.headers.emplace_back("x-ms-max-item-count", std::to_string(page_size));
  if (!continuation.empty()) request.headers.emplace_back("x-ms-continuation", continuation);
  http_response response;
  nlohmann::json body = transport.call(request, &response);
  if (!body.is_array())
    throw network_error(network_error::kind::bad_response,
                        "the hub answered " + describe_request(request) + " with a page that is not a JSON array");
  raw_page page;
  page.items.reserve(body.size());
  for (auto& item : body) page.items.push_back(std::move(item));
  page.item_type = response.header("x-ms-item-type");
  page.continuation = response.header("x-ms-continuation");
  return page;
}

}  // namespace mockhub::service::detail
