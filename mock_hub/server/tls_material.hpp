// TLS material for the broker's TLS listener: a local certificate authority and a server
// certificate signed by it, generated with OpenSSL 3 and kept as PEM files between runs.
#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace mockhub::server {

/// What the generated certificates cover and how long they live.
struct tls_material_options {
  /// Names the server certificate covers besides localhost, 127.0.0.1 and ::1: DNS names
  /// (e.g. "mockhub.azure-devices.net", "*.azure-devices.net") or IPv4/IPv6 addresses.
  std::vector<std::string> host_names{};
  std::chrono::days ca_validity{3650};
  std::chrono::days server_validity{730};
};

/// Thrown when the material cannot be read, generated or written, or a host name is invalid.
class tls_material_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A local CA and a server certificate signed by it, as PEM files in one directory:
/// ca.pem, ca-key.pem, server.pem, server-key.pem (keys mode 0600). ECDSA P-256 keys (fast to
/// generate; RSA material from older runs is reused while valid), SHA-256 signatures, the
/// extensions strict verifiers ask for (Node, Python 3.13, OpenSSL strict mode).
///
/// `ensure` reuses what it finds while it is usable. It regenerates the server certificate when it
/// is missing, unreadable, not yet valid, expires within 7 days, does not match its key, was not
/// signed by the CA, or does not cover every asked name; it regenerates everything when the CA
/// is missing, unreadable, not a CA, does not match its key, or expires within 30 days. The CA
/// is kept whenever possible, so a client that trusts it keeps working across runs and host names.
/// Safe to call from several threads and processes on one directory (an flock serialises them).
class tls_material {
 public:
  static tls_material ensure(const std::filesystem::path& dir, const tls_material_options& options = {});

  const std::filesystem::path& ca_file() const noexcept { return ca_file_; }
  const std::filesystem::path& ca_key_file() const noexcept { return ca_key_file_; }
  const std::filesystem::path& server_cert_file() const noexcept { return server_cert_file_; }
  const std::filesystem::path& server_key_file() const noexcept { return server_key_file_; }

  /// SHA-256 of the CA certificate (DER), lower-case hex without separators.
  const std::string& ca_fingerprint() const noexcept { return ca_fingerprint_; }
  /// Every name the server certificate was asked to cover: localhost, 127.0.0.1, ::1, then the options' names.
  const std::vector<std::string>& server_names() const noexcept { return server_names_; }
  /// Whether this call wrote a new CA (and so a new server certificate too).
  bool generated_ca() const noexcept { return generated_ca_; }
  /// Whether this call wrote a new server certificate.
  bool generated_server_certificate() const noexcept { return generated_server_; }

 private:
  tls_material() = default;

  std::filesystem::path ca_file_;
  std::filesystem::path ca_key_file_;
  std::filesystem::path server_cert_file_;
  std::filesystem::path server_key_file_;
  std::string ca_fingerprint_;
  std::vector<std::string> server_names_;
  bool generated_ca_ = false;
  bool generated_server_ = false;
};

}  // namespace mockhub::server
