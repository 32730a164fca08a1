#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "mock_hub/core/sas_token.hpp"
#include "unit/core/check_hub_error.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;

namespace {
// base64 of the ASCII string "0123456789abcdef0123456789abcdef": the key of the SDK captures.
constexpr std::string_view capture_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr std::string_view other_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";
// The CONNECT password azure-iot-device 1.18.4 sent (sdk-captures/device-mqtt-packets.jsonl).
constexpr std::string_view node_device_token =
    "SharedAccessSignature sr=testhub.azure-devices.net%2Fdevices%2Fdev1"
    "&sig=WAYa3GPPcZzCTvXtQpLgq%2FLezgdDpTZij%2FMl8e0oZbc%3D&se=1795696880";

time_point at(std::int64_t seconds) { return time_point(std::chrono::seconds(seconds)); }
}  // namespace

TEST_CASE("A token's fields are read, the resource both as signed and decoded", "[core][auth]") {
  const auto t = sas_token::parse(node_device_token);
  CHECK(t.encoded_resource() == "testhub.azure-devices.net%2Fdevices%2Fdev1");
  CHECK(t.resource() == "testhub.azure-devices.net/devices/dev1");
  CHECK(t.expiry_seconds() == 1795696880);
  CHECK(t.expiry() == at(1795696880));
  CHECK_FALSE(t.key_name().has_value());
  CHECK(t.string_to_sign() == "testhub.azure-devices.net%2Fdevices%2Fdev1\n1795696880");
  CHECK(t.is_signed_with(capture_key));
  CHECK_FALSE(t.is_signed_with(other_key));

  const auto p = sas_token::parse(
      "SharedAccessSignature sr=localhost&sig=Oqw13xKa%2B%2BamQsIAll%2FDxklqwxcVQA88Yrc5AVAWxwU%3D"
      "&skn=iothubowner&se=1795696814");
  CHECK(p.key_name() == "iothubowner");
  CHECK(p.resource() == "localhost");
  CHECK(p.is_signed_with(capture_key));

  SECTION("se is signed as written, leading zeros included") {
    const auto z = sas_token::parse("SharedAccessSignature sr=h&sig=YQ%3D%3D&se=0042");
    CHECK(z.expiry_seconds() == 42);
    CHECK(z.string_to_sign() == "h\n0042");
  }
}

TEST_CASE("Fields are accepted in any order", "[core][auth]") {
  const std::string token = sas_token::create("myhub.azure-devices.net", capture_key, 1795696814, "service");
  const std::string fields = token.substr(std::string_view("SharedAccessSignature ").size());
  std::vector<std::string> parts;
  for (std::size_t pos = 0; pos <= fields.size();) {
    const auto amp = std::min(fields.find('&', pos), fields.size());
    parts.push_back(fields.substr(pos, amp - pos));
    pos = amp + 1;
  }
  REQUIRE(parts.size() == 4);
  std::sort(parts.begin(), parts.end());
  int orders = 0;
  do {
    std::string permuted = "SharedAccessSignature " + parts[0];
    for (std::size_t i = 1; i < parts.size(); ++i) permuted += "&" + parts[i];
    CAPTURE(permuted);
    const auto t = sas_token::parse(permuted);
    CHECK(t.resource() == "myhub.azure-devices.net");
    CHECK(t.key_name() == "service");
    CHECK(t.expiry_seconds() == 1795696814);
    CHECK(t.is_signed_with(capture_key));
    ++orders;
  } while (std::next_permutation(parts.begin(), parts.end()));
  CHECK(orders == 24);
}

TEST_CASE("Field names match case-insensitively and empty pairs and unknown fields are ignored", "[core][auth]") {
  const auto t = sas_token::parse(
      "SharedAccessSignature SR=testhub.azure-devices.net%2Fdevices%2Fdev1"
      "&&Sig=WAYa3GPPcZzCTvXtQpLgq%2FLezgdDpTZij%2FMl8e0oZbc%3D"
      "&x-extra=1&SE=1795696880&");
  CHECK(t.resource() == "testhub.azure-devices.net/devices/dev1");
  CHECK(t.is_signed_with(capture_key));
}

TEST_CASE("A malformed token is refused with 401002 naming the problem", "[core][auth]") {
  const std::string sig = "sig=WAYa3GPPcZzCTvXtQpLgq%2FLezgdDpTZij%2FMl8e0oZbc%3D";
  auto [text, phrase] = GENERATE_COPY(table<std::string, std::string>({
      {"", "the token is empty"},
      {"Bearer abc", "does not start with 'SharedAccessSignature '"},
      {"sharedaccesssignature sr=h&" + sig + "&se=1", "does not start with 'SharedAccessSignature '"},
      {"SharedAccessSignature  sr=h&" + sig + "&se=1", "white space"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1 ", "white space"},
      {"SharedAccessSignature " + sig + "&se=1", "missing field 'sr'"},
      {"SharedAccessSignature sr=h&se=1", "missing field 'sig'"},
      {"SharedAccessSignature sr=h&" + sig, "missing field 'se'"},
      {"SharedAccessSignature sr=h&sr=h&" + sig + "&se=1", "field 'sr' appears more than once"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1&SE=2", "field 'se' appears more than once"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1&skn=a&skn=b", "field 'skn' appears more than once"},
      {"SharedAccessSignature sr=&" + sig + "&se=1", "field 'sr' is empty"},
      {"SharedAccessSignature sr=h&sig=&se=1", "field 'sig' is empty"},
      {"SharedAccessSignature sr=h&" + sig + "&se=", "field 'se' is empty"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1&skn=", "field 'skn' is empty"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1&skn", "'skn' is not a name=value field"},
      {"SharedAccessSignature sr=h%2&" + sig + "&se=1", "field 'sr' has a bad percent escape"},
      {"SharedAccessSignature sr=h%zz&" + sig + "&se=1", "field 'sr' has a bad percent escape"},
      {"SharedAccessSignature sr=h&sig=abc%&se=1", "field 'sig' has a bad percent escape"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1&skn=a%g1", "field 'skn' has a bad percent escape"},
      {"SharedAccessSignature sr=h&sig=not-base64!&se=1", "field 'sig' is not base64 after url-decoding"},
      {"SharedAccessSignature sr=h&sig=YQ%3D&se=1", "field 'sig' is not base64 after url-decoding"},
      {"SharedAccessSignature sr=h&" + sig + "&se=soon", "field 'se' is not a whole number of seconds"},
      {"SharedAccessSignature sr=h&" + sig + "&se=1795696880.5", "field 'se' is not a whole number of seconds"},
      {"SharedAccessSignature sr=h&" + sig + "&se=-", "field 'se' is not a whole number of seconds"},
      {"SharedAccessSignature sr=h&" + sig + "&se=-5", "field 'se' is negative"},
      {"SharedAccessSignature sr=h&" + sig + "&se=253402300800", "field 'se' lies beyond 9999-12-31T23:59:59Z"},
      {"SharedAccessSignature sr=h&" + sig + "&se=99999999999999999999999", "lies beyond 9999-12-31"},
  }));
  CAPTURE(text);
  check_hub_error([&] { (void)sas_token::parse(text); }, 401002, phrase);
  try {
    (void)sas_token::parse(text);
  } catch (const hub_error& e) {
    CHECK(e.message().starts_with("Malformed SAS token: "));
  }
}

TEST_CASE("A created token is what the Node SDK sends, and parses and verifies", "[core][auth]") {
  SECTION("device token, byte for byte the captured CONNECT password") {
    CHECK(sas_token::create("testhub.azure-devices.net/devices/dev1", capture_key, 1795696880) == node_device_token);
  }
  SECTION("policy token round trip, expiry given as a time") {
    const auto expiry = at(1795696814) + std::chrono::milliseconds(999);
    const std::string text = sas_token::create("localhost", capture_key, expiry, "iothubowner");
    CHECK(text ==
          "SharedAccessSignature sr=localhost&sig=Oqw13xKa%2B%2BamQsIAll%2FDxklqwxcVQA88Yrc5AVAWxwU%3D"
          "&se=1795696814&skn=iothubowner");
    const auto t = sas_token::parse(text);
    CHECK(t.key_name() == "iothubowner");
    CHECK(t.is_signed_with(capture_key));
    CHECK_FALSE(t.is_expired_at(at(1795696813)));
    CHECK(t.covers("localhost"));
  }
  SECTION("resource and policy name are percent-encoded like encodeURIComponent") {
    const auto t = sas_token::parse(sas_token::create("h/devices/a b+c", capture_key, 10, "my.policy_1"));
    CHECK(t.encoded_resource() == "h%2Fdevices%2Fa%20b%2Bc");
    CHECK(t.resource() == "h/devices/a b+c");
    CHECK(t.key_name() == "my.policy_1");
    CHECK(t.is_signed_with(capture_key));
  }
  SECTION("a key that cannot sign is refused with 400004") {
    check_hub_error([] { (void)sas_token::create("h", "not base64!", 10); }, 400004, "not valid base64");
    check_hub_error([] { (void)sas_token::create("h", "", 10); }, 400004, "empty");
    check_hub_error([] { (void)sas_token::create("h", capture_key, -1); }, 400004, "outside");
    check_hub_error([] { (void)sas_token::create("", capture_key, 10); }, 400004, "resource URI is empty");
    check_hub_error([] { (void)sas_token::create("h", capture_key, sas_token::max_expiry + 1); }, 400004, "outside");
  }
}

TEST_CASE("The signature covers sr exactly as it appears, so %2F and %2f forms each verify", "[core][auth]") {
  const auto upper = sas_token::parse(node_device_token);
  // Signed (with the capture key) over the lower-case form, as the docs' table encodes.
  const auto lower = sas_token::parse(
      "SharedAccessSignature sr=testhub.azure-devices.net%2fdevices%2fdev1"
      "&sig=8FaAfXAbWIHwlmgmI1IcekMNVeoViRtosv9%2FcPjbs8c%3D&se=1795696880");
  CHECK(upper.is_signed_with(capture_key));
  CHECK(lower.is_signed_with(capture_key));
  CHECK(lower.resource() == upper.resource());
  CHECK(lower.covers("testhub.azure-devices.net/devices/dev1"));

  SECTION("re-casing the escapes of a signed token breaks its signature") {
    const auto recased = sas_token::parse(
        "SharedAccessSignature sr=testhub.azure-devices.net%2fdevices%2fdev1"
        "&sig=WAYa3GPPcZzCTvXtQpLgq%2FLezgdDpTZij%2FMl8e0oZbc%3D&se=1795696880");
    CHECK_FALSE(recased.is_signed_with(capture_key));
  }
  SECTION("changing se breaks the signature") {
    const auto later = sas_token::parse(
        "SharedAccessSignature sr=testhub.azure-devices.net%2Fdevices%2Fdev1"
        "&sig=WAYa3GPPcZzCTvXtQpLgq%2FLezgdDpTZij%2FMl8e0oZbc%3D&se=1795696881");
    CHECK_FALSE(later.is_signed_with(capture_key));
  }
}

TEST_CASE("A key that is not base64 is an error, not a crash", "[core][auth]") {
  const auto t = sas_token::parse(node_device_token);
  const std::string bad = GENERATE("", "not base64!", "MDEy=", "%%%%");
  CAPTURE(bad);
  check_hub_error([&] { (void)t.is_signed_with(bad); }, 400004, "SAS key");
}

TEST_CASE("A token is valid while now is before se", "[core][auth]") {
  const auto t = sas_token::parse(sas_token::create("h", capture_key, 1000));
  CHECK_FALSE(t.is_expired_at(at(0)));
  CHECK_FALSE(t.is_expired_at(at(999)));
  CHECK_FALSE(t.is_expired_at(at(1000) - std::chrono::nanoseconds(1)));
  CHECK(t.is_expired_at(at(1000)));
  CHECK(t.is_expired_at(at(1001)));

  SECTION("se == now is refused, se == now + 1 s is accepted") {
    const auto now = at(1795696880);
    CHECK(sas_token::parse(sas_token::create("h", capture_key, now)).is_expired_at(now));
    const auto next = now + std::chrono::seconds(1);
    CHECK_FALSE(sas_token::parse(sas_token::create("h", capture_key, next)).is_expired_at(now));
  }
  SECTION("a token valid until 9999-12-31 is accepted, its expiry saturating the time_point") {
    const auto far = sas_token::parse(sas_token::create("h", capture_key, sas_token::max_expiry));
    CHECK(far.expiry_seconds() == 253402300799);
    CHECK(far.expiry() == time_point::max());
    CHECK_FALSE(far.is_expired_at(at(1795696880)));
    CHECK_FALSE(far.is_expired_at(time_point::max()));  // year 2262 is still before 9999
    // What the broker link turns a connection's `se` into.
    CHECK(sas_token::expiry_at(253402300799) == time_point::max());
    CHECK(sas_token::expiry_at(9'223'372'036) == time_point::max());
    CHECK(sas_token::expiry_at(9'223'372'035) == at(9'223'372'035));
    CHECK(sas_token::expiry_at(1795696880) == at(1795696880));
  }
  SECTION("se = 0 is a well-formed token that has long expired") {
    CHECK(sas_token::parse(sas_token::create("h", capture_key, 0)).is_expired_at(at(1)));
  }
}

TEST_CASE("The scope is a segment-wise, case-insensitive prefix of the resource", "[core][auth]") {
  auto [scope, resource, covered] = GENERATE(table<std::string, std::string, bool>({
      {"host/devices/a", "host/devices/a", true},
      {"host/devices/a", "host/devices/a/x", true},
      {"host/devices/a", "host/devices/a/modules/m", true},
      {"host/devices/a", "host/devices/ab", false},
      {"host/devices/a", "host/devices/b", false},
      {"host/devices/a", "host/devices", false},
      {"host/devices", "host/devices/any", true},
      {"host/devices", "host/devicesX/any", false},
      {"host", "host", true},
      {"host", "host/devices/a", true},
      {"host", "hostile", false},
      {"host", "other/devices/a", false},
      {"HOST/Devices/a", "host/devices/a", true},
      {"host/devices/A", "host/devices/a", true},
      {"host/devices/a/", "host/devices/a", true},
      {"host/", "host/devices/a", true},
      {"", "host", false},
      {"/", "host", false},
      {"host/devices/a/x", "host/devices/a", false},
  }));
  CAPTURE(scope, resource);
  CHECK(sas_token::resource_covers(scope, resource) == covered);
}
