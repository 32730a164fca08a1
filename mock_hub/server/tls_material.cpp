#include "mock_hub/server/tls_material.hpp"
#include "mock_hub/core/ascii.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <system_error>

namespace mockhub::server {
namespace {

namespace fs = std::filesystem;

template <auto free_fn>
struct openssl_deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    free_fn(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;
using name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<X509_NAME_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, openssl_deleter<GENERAL_NAME_free>>;
using octets_ptr = std::unique_ptr<ASN1_OCTET_STRING, openssl_deleter<ASN1_OCTET_STRING_free>>;
using ia5_ptr = std::unique_ptr<ASN1_IA5STRING, openssl_deleter<ASN1_IA5STRING_free>>;

// ECDSA P-256: generated in well under a millisecond, where an RSA-2048 key took 0.2-1 s and made
// a first `mockhub start` miss its 300 ms (bench B5). The real hub serves RSA certificates; every TLS
// stack the official SDKs use accepts ECDSA ones (docs/fidelity.md).
constexpr const char* key_curve = "P-256";
// Reuse margins: a certificate this close to its end is replaced before a test run can hit it.
constexpr long ca_renew_margin_s = 30L * 24 * 3600;
constexpr long server_renew_margin_s = 7L * 24 * 3600;
// Not-before an hour in the past, so a client whose clock is a little behind accepts the certificate.
constexpr long not_before_skew_s = 3600;

[[noreturn]] void throw_openssl(const std::string& what) {
  std::string message = "TLS material: " + what;
  while (unsigned long code = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    message += "; ";
    message += buf.data();
  }
  throw tls_material_error(message);
}

template <typename T>
T* check(T* p, const char* what) {
  if (p == nullptr) throw_openssl(what);
  return p;
}

void check(int rc, const char* what) {
  if (rc <= 0) throw_openssl(what);
}

// ---- names ----------------------------------------------------------------------------------

bool is_ip_address(const std::string& name) {
  octets_ptr ip(a2i_IPADDRESS(name.c_str()));
  ERR_clear_error();
  return ip != nullptr;
}

// DNS names are checked here so that a name cannot smuggle anything into the certificate.
bool is_dns_name(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

std::vector<std::string> server_names_for(const tls_material_options& options) {
  std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
  for (const auto& name : options.host_names) {
    if (!is_ip_address(name) && !is_dns_name(name)) {
      throw tls_material_error("TLS material: \"" + name +
                               "\" is neither a DNS name nor an IP address; it cannot go into the server certificate");
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

// Whether the certificate's subjectAltName lists `name` itself (a wildcard asked for must be
// present as that wildcard; X509_check_host would answer a different question).
bool san_lists(X509* cert, const std::string& name) {
  general_names_ptr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!sans) return false;
  octets_ptr ip(a2i_IPADDRESS(name.c_str()));
  ERR_clear_error();
  for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (ip && gn->type == GEN_IPADD && ASN1_STRING_cmp(gn->d.iPAddress, ip.get()) == 0) return true;
    if (!ip && gn->type == GEN_DNS) {
      const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName));
      if (core::iequals({data, static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName))}, name)) return true;
    }
  }
  return false;
}

// ---- files ----------------------------------------------------------------------------------

// Holds an exclusive flock on `<dir>/.tls.lock`: flock locks belong to open file descriptions,
// so this serialises threads of one process as well as separate processes.
class dir_lock {
 public:
  explicit dir_lock(const fs::path& dir) {
    const fs::path path = dir / ".tls.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "TLS material: cannot open " + path.string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "TLS material: cannot lock " + path.string());
      }
    }
  }
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;
  ~dir_lock() { ::close(fd_); }

 private:
  int fd_ = -1;
};

// Writes through a temporary file and rename(), so a reader never sees half a PEM file.
void write_file_atomically(const fs::path& path, const std::string& content, mode_t mode) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "TLS material: cannot create " + tmp.string());
  std::size_t done = 0;
  int err = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fchmod(fd, mode) != 0) err = errno;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "TLS material: cannot write " + path.string());
  }
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(len)};
}

std::string cert_pem(X509* cert) {
  bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  return bio_contents(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  return bio_contents(bio.get());
}

// Missing or unreadable files read as nothing: the caller regenerates them.
x509_ptr read_cert(const fs::path& path) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"));
  x509_ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return cert;
}

pkey_ptr read_key(const fs::path& path) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"));
  pkey_ptr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return key;
}

// ---- certificates ---------------------------------------------------------------------------

// Whether `cert` is inside its validity period now and still will be `margin_s` seconds from now.
bool valid_for(X509* cert, long margin_s) {
  std::time_t later = std::time(nullptr) + margin_s;
  return X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 && X509_cmp_time(X509_get0_notAfter(cert), &later) > 0;
}

bool keys_match(X509* cert, EVP_PKEY* key) {
  const bool ok = X509_check_private_key(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

bool usable_ca(X509* ca, EVP_PKEY* key) {
  return ca != nullptr && key != nullptr && keys_match(ca, key) && X509_check_ca(ca) >= 1 &&
         valid_for(ca, ca_renew_margin_s);
}

bool usable_server(X509* cert, EVP_PKEY* key, X509* ca, const std::vector<std::string>& names) {
  if (cert == nullptr || key == nullptr || !keys_match(cert, key) || !valid_for(cert, server_renew_margin_s)) return false;
  if (X509_check_issued(ca, cert) != X509_V_OK) return false;
  EVP_PKEY* ca_key = X509_get0_pubkey(ca);
  const bool signed_by_ca = ca_key != nullptr && X509_verify(cert, ca_key) == 1;
  ERR_clear_error();
  if (!signed_by_ca) return false;
  return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return san_lists(cert, n); });
}

pkey_ptr generate_key() {
  return pkey_ptr(check(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", key_curve), "EC P-256 key generation"));
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ext_ptr ext(check(X509V3_EXT_conf_nid(nullptr, ctx, nid, value), "X509V3_EXT_conf_nid"));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

void add_subject_alt_names(X509* cert, const std::vector<std::string>& names) {
  general_names_ptr sans(check(sk_GENERAL_NAME_new_null(), "sk_GENERAL_NAME_new_null"));
  for (const auto& name : names) {
    general_name_ptr gn(check(GENERAL_NAME_new(), "GENERAL_NAME_new"));
    if (octets_ptr ip{a2i_IPADDRESS(name.c_str())}) {
      GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, ip.release());
    } else {
      ERR_clear_error();
      ia5_ptr dns(check(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new"));
      check(ASN1_STRING_set(dns.get(), name.data(), static_cast<int>(name.size())), "ASN1_STRING_set");
      GENERAL_NAME_set0_value(gn.get(), GEN_DNS, dns.release());
    }
    check(sk_GENERAL_NAME_push(sans.get(), gn.get()), "sk_GENERAL_NAME_push");
    gn.release();
  }
  check(X509_add1_ext_i2d(cert, NID_subject_alt_name, sans.get(), 0, X509V3_ADD_DEFAULT), "subjectAltName");
}

name_ptr make_name(const std::string& common_name) {
  name_ptr name(check(X509_NAME_new(), "X509_NAME_new"));
  const auto add = [&](const char* field, const std::string& value) {
    check(X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0),
          "X509_NAME_add_entry_by_txt");
  };
  add("O", "mockhub");
  add("CN", common_name);
  return name;
}

// Fields every certificate here shares: v3, a random positive 127-bit serial, validity, names, key.
x509_ptr new_certificate(X509_NAME* subject, X509_NAME* issuer, EVP_PKEY* key, std::chrono::days validity) {
  x509_ptr cert(check(X509_new(), "X509_new"));
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  bn_ptr serial(check(BN_new(), "BN_new"));
  check(BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr, "serial number");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -not_before_skew_s) != nullptr, "notBefore");
  check(X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(validity.count()), 0, nullptr) != nullptr,
        "notAfter");
  check(X509_set_subject_name(cert.get(), subject), "X509_set_subject_name");
  check(X509_set_issuer_name(cert.get(), issuer), "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  return cert;
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xffU;
    out += digits[b >> 4];
    out += digits[b & 0xfU];
  }
  return out;
}

x509_ptr make_ca(EVP_PKEY* key, const tls_material_options& options) {
  // A distinct name per CA, so two mockhub CAs in one trust store are told apart.
  name_ptr name = make_name("mockhub local development CA " + random_hex(4));
  x509_ptr ca = new_certificate(name.get(), name.get(), key, options.ca_validity);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), ca.get(), nullptr, nullptr, 0);
  add_extension(ca.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), &ctx, NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), key, EVP_sha256()), "signing the CA certificate");
  return ca;
}

x509_ptr make_server(EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key, const std::vector<std::string>& names,
                     const tls_material_options& options) {
  // The hub's own host name as CN when there is one (real hubs carry theirs); clients use the SANs.
  const std::string& cn = names.size() > 3 ? names[3] : names[0];
  name_ptr subject = make_name(cn);
  x509_ptr cert = new_certificate(subject.get(), X509_get_subject_name(ca), key, options.server_validity);
  // Never outlive the CA: a chain with a longer-lived leaf fails on some verifiers.
  if (ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca)) > 0) {
    check(X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca)), "X509_set1_notAfter");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  // An EC key only signs; RFC 5480 does not allow keyEncipherment (RSA key transport) on it.
  add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  add_subject_alt_names(cert.get(), names);
  check(X509_sign(cert.get(), ca_key, EVP_sha256()), "signing the server certificate");
  return cert;
}

std::string fingerprint(X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  check(X509_digest(cert, EVP_sha256(), md.data(), &len), "X509_digest");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xfU];
  }
  return hex;
}

}  // namespace

tls_material tls_material::ensure(const fs::path& dir, const tls_material_options& options) {
  tls_material m;
  m.server_names_ = server_names_for(options);
  m.ca_file_ = dir / "ca.pem";
  m.ca_key_file_ = dir / "ca-key.pem";
  m.server_cert_file_ = dir / "server.pem";
  m.server_key_file_ = dir / "server-key.pem";

  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    fs::permissions(dir, fs::perms::owner_all, ec);
  } else if (ec) {
    throw std::system_error(ec, "TLS material: cannot create " + dir.string());
  }
  dir_lock lock(dir);

  x509_ptr ca = read_cert(m.ca_file_);
  pkey_ptr ca_key = read_key(m.ca_key_file_);
  if (!usable_ca(ca.get(), ca_key.get())) {
    ca_key = generate_key();
    ca = make_ca(ca_key.get(), options);
    write_file_atomically(m.ca_key_file_, key_pem(ca_key.get()), 0600);
    write_file_atomically(m.ca_file_, cert_pem(ca.get()), 0644);
    m.generated_ca_ = true;
  }

  x509_ptr server = m.generated_ca_ ? nullptr : read_cert(m.server_cert_file_);
  pkey_ptr server_key = m.generated_ca_ ? nullptr : read_key(m.server_key_file_);
  if (!usable_server(server.get(), server_key.get(), ca.get(), m.server_names_)) {
    server_key = generate_key();
    server = make_server(server_key.get(), ca.get(), ca_key.get(), m.server_names_, options);
    write_file_atomically(m.server_key_file_, key_pem(server_key.get()), 0600);
    write_file_atomically(m.server_cert_file_, cert_pem(server.get()), 0644);
    m.generated_server_ = true;
  }

  m.ca_fingerprint_ = fingerprint(ca.get());
  return m;
}

}  // namespace mockhub::server
