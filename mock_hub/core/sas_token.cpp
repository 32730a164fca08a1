#include "sas_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "encoding.hpp"
#include "errors.hpp"
#include "ascii.hpp"

namespace mockhub::core {

namespace {

constexpr std::string_view scheme = "SharedAccessSignature ";

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

[[noreturn]] void malformed(std::string_view why) {
  throw errors::iothub_unauthorized_access("Malformed SAS token: " + std::string(why) + ".");
}

std::string field_name(std::string_view f) { return "field '" + std::string(f) + "'"; }

/// base64-decodes a key; refuses (400004) what cannot sign safely.
std::string decode_key(std::string_view key) {
  if (key.empty()) throw errors::argument_invalid("The SAS key is empty.");
  auto bytes = base64_decode(key);
  if (!bytes) throw errors::argument_invalid("The SAS key is not valid base64.");
  if (bytes->empty()) throw errors::argument_invalid("The SAS key is empty.");
  return std::move(*bytes);
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key_bytes, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key_bytes.data(), static_cast<int>(key_bytes.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  if (result == nullptr || len != out.size()) throw errors::server_error("HMAC-SHA256 failed.");
  return out;
}

std::string sign(std::string_view key_bytes, std::string_view string_to_sign) {
  const auto mac = hmac_sha256(key_bytes, string_to_sign);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

}  // namespace

sas_token sas_token::parse(std::string_view text) {
  if (text.empty()) malformed("the token is empty");
  if (!text.starts_with(scheme)) malformed("it does not start with 'SharedAccessSignature '");
  const std::string_view fields = text.substr(scheme.size());
  for (const char c : fields) {
    if (is_space(c)) malformed("it contains white space after 'SharedAccessSignature '");
  }

  std::optional<std::string_view> sr, sig, se, skn;
  std::size_t pos = 0;
  while (pos <= fields.size()) {
    const std::size_t amp = std::min(fields.find('&', pos), fields.size());
    const std::string_view pair = fields.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) malformed("'" + std::string(pair) + "' is not a name=value field");
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    const std::pair<std::string_view, std::optional<std::string_view>*> known[] = {
        {"sr", &sr}, {"sig", &sig}, {"se", &se}, {"skn", &skn}};
    for (const auto& [canonical, slot] : known) {
      if (!iequals(name, canonical)) continue;
      if (slot->has_value()) malformed(field_name(canonical) + " appears more than once");
      if (value.empty()) malformed(field_name(canonical) + " is empty");
      *slot = value;
    }
    // Unknown fields are ignored, as Microsoft's own hub-side parser (IoT Edge hub) does.
  }
  if (!sr) malformed("missing field 'sr'");
  if (!sig) malformed("missing field 'sig'");
  if (!se) malformed("missing field 'se'");

  sas_token t;
  t.encoded_resource_ = std::string(*sr);
  auto resource = url_decode(*sr, true);
  if (!resource) malformed("field 'sr' has a bad percent escape");
  if (resource->empty()) malformed("field 'sr' is empty");
  t.resource_ = std::move(*resource);

  const auto sig_text = url_decode(*sig, true);
  if (!sig_text) malformed("field 'sig' has a bad percent escape");
  auto sig_bytes = base64_decode(*sig_text);
  if (!sig_bytes || sig_bytes->empty()) malformed("field 'sig' is not base64 after url-decoding");
  t.signature_ = std::move(*sig_bytes);

  auto se_text = url_decode(*se, true);
  if (!se_text) malformed("field 'se' has a bad percent escape");
  if (se_text->empty()) malformed("field 'se' is empty");
  const bool negative = (*se_text)[0] == '-';
  const std::string_view digits = std::string_view(*se_text).substr(negative ? 1 : 0);
  if (digits.empty()) malformed("field 'se' is not a whole number of seconds");
  for (const char c : digits) {
    if (c < '0' || c > '9') malformed("field 'se' is not a whole number of seconds: '" + *se_text + "'");
  }
  if (negative) malformed("field 'se' is negative: '" + *se_text + "'");
  std::int64_t expiry = 0;
  for (const char c : digits) {
    expiry = expiry * 10 + (c - '0');
    if (expiry > max_expiry) malformed("field 'se' lies beyond 9999-12-31T23:59:59Z: '" + *se_text + "'");
  }
  t.expiry_ = expiry;
  t.expiry_text_ = std::move(*se_text);

  if (skn) {
    auto name = url_decode(*skn, true);
    if (!name) malformed("field 'skn' has a bad percent escape");
    if (name->empty()) malformed("field 'skn' is empty");
    t.key_name_ = std::move(*name);
  }
  return t;
}

std::string sas_token::create(std::string_view resource_uri, std::string_view key, std::int64_t expiry_seconds,
                              std::string_view policy_name) {
  if (expiry_seconds < 0 || expiry_seconds > max_expiry) {
    throw errors::argument_invalid("SAS expiry " + std::to_string(expiry_seconds) +
                                   " is outside 0..253402300799 (9999-12-31T23:59:59Z).");
  }
  if (resource_uri.empty()) throw errors::argument_invalid("The SAS resource URI is empty.");
  const std::string key_bytes = decode_key(key);
  const std::string sr = url_encode(resource_uri);
  const std::string se = std::to_string(expiry_seconds);
  std::string token = std::string(scheme) + "sr=" + sr + "&sig=" + url_encode(sign(key_bytes, sr + "\n" + se)) +
                      "&se=" + se;
  if (!policy_name.empty()) token += "&skn=" + url_encode(policy_name);
  return token;
}

std::string sas_token::create(std::string_view resource_uri, std::string_view key, time_point expiry,
                              std::string_view policy_name) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(expiry.time_since_epoch()).count();
  return create(resource_uri, key, static_cast<std::int64_t>(seconds), policy_name);
}

time_point sas_token::expiry() const noexcept { return expiry_at(expiry_); }

time_point sas_token::expiry_at(std::int64_t expiry_seconds) noexcept {
  using std::chrono::seconds;
  constexpr auto max_seconds = std::chrono::duration_cast<seconds>(time_point::duration::max()).count();
  if (expiry_seconds >= max_seconds) return time_point::max();
  return time_point(std::chrono::duration_cast<time_point::duration>(seconds(expiry_seconds)));
}

std::string sas_token::string_to_sign() const { return encoded_resource_ + "\n" + expiry_text_; }

bool sas_token::is_signed_with(std::string_view key) const {
  const auto mac = hmac_sha256(decode_key(key), string_to_sign());
  // The length of a signature is no secret; its bytes are.
  if (signature_.size() != mac.size()) return false;
  return CRYPTO_memcmp(signature_.data(), mac.data(), mac.size()) == 0;
}

bool sas_token::is_expired_at(time_point now) const noexcept {
  // se is whole seconds: now >= se  <=>  floor(now) >= se.
  const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  return expiry_ <= now_seconds;
}

bool sas_token::resource_covers(std::string_view scope, std::string_view resource) noexcept {
  while (!scope.empty() && scope.back() == '/') scope.remove_suffix(1);
  if (scope.empty() || resource.size() < scope.size()) return false;
  if (!iequals(scope, resource.substr(0, scope.size()))) return false;
  return resource.size() == scope.size() || resource[scope.size()] == '/';
}

}  // namespace mockhub::core
