#include "mock_hub/server/tls_material.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <vector>

using mockhub::server::tls_material;
using mockhub::server::tls_material_error;
using mockhub::server::tls_material_options;
using mockhub::test::temp_dir;

namespace {

struct x509_free_fn {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free_fn>;

x509_ptr load_cert(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  REQUIRE(f);
  x509_ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  return cert;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777U;
}

// Chain verification as a strict client does it (OpenSSL's X509_STRICT: the checks Python 3.13
// enables by default), then the name check for each SAN.
bool chain_verifies(const tls_material& m) {
  x509_ptr ca = load_cert(m.ca_file());
  x509_ptr server = load_cert(m.server_cert_file());
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), server.get(), nullptr);
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  if (!ok) UNSCOPED_INFO("verify error: " << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  return ok;
}

bool covers(const tls_material& m, const std::string& name) {
  x509_ptr server = load_cert(m.server_cert_file());
  if (X509_check_ip_asc(server.get(), name.c_str(), 0) == 1) return true;
  return X509_check_host(server.get(), name.c_str(), name.size(), 0, nullptr) == 1;
}

}  // namespace

TEST_CASE("TLS material is generated once and reused while it is valid", "[integration][broker][tls]") {
  temp_dir dir;
  const tls_material_options options{.host_names = {"mockhub.azure-devices.net"}};

  const tls_material first = tls_material::ensure(dir.path(), options);
  CHECK(first.generated_ca());
  CHECK(first.generated_server_certificate());
  CHECK(first.ca_fingerprint().size() == 64);
  CHECK(first.server_names() == std::vector<std::string>{"localhost", "127.0.0.1", "::1", "mockhub.azure-devices.net"});
  CHECK(mode_of(first.ca_key_file()) == 0600U);
  CHECK(mode_of(first.server_key_file()) == 0600U);

  x509_ptr ca = load_cert(first.ca_file());
  CHECK(X509_check_ca(ca.get()) >= 1);
  CHECK(chain_verifies(first));
  for (const char* name : {"localhost", "127.0.0.1", "::1", "mockhub.azure-devices.net"}) {
    INFO(name);
    CHECK(covers(first, name));
  }
  CHECK_FALSE(covers(first, "other.azure-devices.net"));
  CHECK_FALSE(covers(first, "127.0.0.2"));

  const std::string server_pem = slurp(first.server_cert_file());
  const tls_material second = tls_material::ensure(dir.path(), options);
  CHECK_FALSE(second.generated_ca());
  CHECK_FALSE(second.generated_server_certificate());
  CHECK(second.ca_fingerprint() == first.ca_fingerprint());
  CHECK(slurp(second.server_cert_file()) == server_pem);
}

// ECDSA P-256 rather than the real hub's RSA: generated in well under a millisecond, so a first
// `mockhub start` stays fast (docs/fidelity.md, bench B5).
TEST_CASE("Generated keys are ECDSA P-256 and the server certificate only signs", "[integration][broker][tls]") {
  temp_dir dir;
  const tls_material m = tls_material::ensure(dir.path());
  for (const auto& path : {m.ca_file(), m.server_cert_file()}) {
    INFO(path);
    x509_ptr cert = load_cert(path);
    EVP_PKEY* key = X509_get0_pubkey(cert.get());
    REQUIRE(key != nullptr);
    CHECK(EVP_PKEY_is_a(key, "EC") == 1);
    std::array<char, 64> group{};
    std::size_t len = 0;
    REQUIRE(EVP_PKEY_get_utf8_string_param(key, "group", group.data(), group.size(), &len) == 1);
    CHECK(std::string(group.data(), len) == "prime256v1");
    CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);
  }
  x509_ptr server = load_cert(m.server_cert_file());
  CHECK(X509_get_key_usage(server.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(chain_verifies(m));
}

TEST_CASE("Another host name regenerates the server certificate and keeps the CA", "[integration][broker][tls]") {
  temp_dir dir;
  const tls_material first = tls_material::ensure(dir.path(), {.host_names = {"a.example.test"}});
  const tls_material second = tls_material::ensure(dir.path(), {.host_names = {"b.example.test"}});

  CHECK_FALSE(second.generated_ca());
  CHECK(second.generated_server_certificate());
  CHECK(second.ca_fingerprint() == first.ca_fingerprint());
  CHECK(chain_verifies(second));
  CHECK(covers(second, "b.example.test"));
  CHECK_FALSE(covers(second, "a.example.test"));
  CHECK(covers(second, "localhost"));
}

TEST_CASE("IP addresses and wildcards go into the server certificate as such", "[integration][broker][tls]") {
  temp_dir dir;
  const tls_material m = tls_material::ensure(dir.path(), {.host_names = {"10.1.2.3", "fd00::7", "*.azure-devices.net"}});
  CHECK(chain_verifies(m));
  CHECK(covers(m, "10.1.2.3"));
  CHECK(covers(m, "fd00::7"));
  CHECK(covers(m, "myhub.azure-devices.net"));
  CHECK_FALSE(covers(m, "azure-devices.net"));

  const tls_material again = tls_material::ensure(dir.path(), {.host_names = {"10.1.2.3", "fd00::7", "*.azure-devices.net"}});
  CHECK_FALSE(again.generated_server_certificate());
}

TEST_CASE("Damaged or missing TLS files are generated again", "[integration][broker][tls]") {
  temp_dir dir;
  const tls_material first = tls_material::ensure(dir.path());

  SECTION("a missing server key: a new server certificate from the same CA") {
    std::filesystem::remove(first.server_key_file());
    const tls_material m = tls_material::ensure(dir.path());
    CHECK_FALSE(m.generated_ca());
    CHECK(m.generated_server_certificate());
    CHECK(m.ca_fingerprint() == first.ca_fingerprint());
    CHECK(chain_verifies(m));
  }
  SECTION("a server certificate from another CA: a new one from this CA") {
    temp_dir other;
    const tls_material foreign = tls_material::ensure(other.path());
    std::filesystem::copy_file(foreign.server_cert_file(), first.server_cert_file(),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(foreign.server_key_file(), first.server_key_file(),
                               std::filesystem::copy_options::overwrite_existing);
    const tls_material m = tls_material::ensure(dir.path());
    CHECK(m.generated_server_certificate());
    CHECK(chain_verifies(m));
  }
  SECTION("a CA certificate that is not PEM: a new CA and server certificate") {
    std::ofstream(first.ca_file(), std::ios::trunc) << "not a certificate\n";
    const tls_material m = tls_material::ensure(dir.path());
    CHECK(m.generated_ca());
    CHECK(m.generated_server_certificate());
    CHECK(m.ca_fingerprint() != first.ca_fingerprint());
    CHECK(chain_verifies(m));
  }
}

TEST_CASE("A host name that is neither a DNS name nor an IP address is refused", "[integration][broker][tls]") {
  temp_dir dir;
  const auto bad = GENERATE(as<std::string>{}, "evil,DNS:other.test", "", "a..b", "new\nline", "x y");
  INFO(bad);
  CHECK_THROWS_AS(tls_material::ensure(dir.path(), {.host_names = {bad}}), tls_material_error);
    CHECK_THROWS_WITH(tls_material::ensure(dir.path(), {.host_names = {bad}}), Catch::Matchers::Contains("is neither a DNS name nor an IP address"));
}

TEST_CASE("Several threads ensuring one directory agree on one CA", "[integration][broker][tls]") {
  temp_dir dir;
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 4; ++i) {
    results.push_back(std::async(std::launch::async, [&] { return tls_material::ensure(dir.path()).ca_fingerprint(); }));
  }
  std::vector<std::string> fingerprints;
  for (auto& r : results) fingerprints.push_back(r.get());
  for (const auto& f : fingerprints) CHECK(f == fingerprints.front());
  CHECK(chain_verifies(tls_material::ensure(dir.path())));
}
