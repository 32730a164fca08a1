// Security: secrets stay secret. A hub that created devices with given keys, served REST calls
// signed with policy keys and admitted (and refused) devices leaves no key, signature or token in
// anything it wrote (broker log, configuration, trace); its data directory and TLS keys are
// owner-only, whatever the umask.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "security_hub.hpp"
#include "temp_dir.hpp"

using namespace mockhub;
using namespace mockhub::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777U;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// `sig` of a token, as sent (percent-encoded) and decoded (the base64 HMAC itself).
std::vector<std::string> signature_forms(const std::string& token) {
  const auto at = token.find("sig=") + 4;
  const std::string sent = token.substr(at, token.find('&', at) - at);
  return {sent, core::url_decode(sent).value()};
}

/// Sets the umask for a scope: 0 lets every permission through, so only what the code asks
/// for explicitly protects the files.
struct umask_scope {
  mode_t old;
  explicit umask_scope(mode_t m) : old(::umask(m)) {}
  ~umask_scope() { ::umask(old); }
};

}  // namespace

TEST_CASE("Security: keys, signatures and tokens never reach the logs, the configuration or the trace",
          "[integration][security][secrets]") {
  temp_dir tmp;
  const fs::path data_dir = tmp / "data";
  auto options = security_hub::defaults();
  options.data_dir = data_dir;
  options.record = tmp / "trace.jsonl";  // written from the start, before the data directory exists
  options.tls = true;
  std::vector<std::string> secrets;
  std::string hub_secret;
  {
    security_hub s(options);
    auto rest = s.rest();
    const std::string ct = "application/json; charset=utf-8";
    const std::string owner_token = s.service_token("iothubowner");
    const auto admin = security_hub::auth(owner_token);
    const std::string primary = "c2VjcmV0IHByaW1hcnkga2V5IG9mIGRldjEsIDMyIGI=";
    const std::string secondary = "c2VjcmV0IHNlY29uZGFyeSBrZXkgb2YgZGV2MSwgMzI=";

    // Create a device with keys, read it back (its keys are in both bodies).
    const json body = {{"deviceId", "dev1"},
                       {"authentication", {{"type", "sas"}, {"symmetricKey", {{"primaryKey", primary}, {"secondaryKey", secondary}}}}}};
    const auto created = rest.Put(security_hub::api("/devices/dev1"), admin, body.dump(), ct);
    REQUIRE(created);
    REQUIRE(created->status == 200);
    CHECK(json::parse(created->body)["authentication"]["symmetricKey"]["primaryKey"] == primary);
    REQUIRE(rest.Get(security_hub::api("/devices/dev1"), admin)->status == 200);
    const std::string generated = s.create_device("dev2");  // generated keys too

    // A device admitted with a SAS token, one refused with a forged one; REST refused and served.
    const std::string device_token = s.device_token("dev1", primary);
    auto dev1 = s.device("dev1", device_token);
    REQUIRE(dev1->publish("devices/dev1/messages/events/", "hello", 1));
    const std::string forged = s.device_token("dev2", stranger_key);
    CHECK(s.connect_code("dev2", forged) == 5);
    const std::string forged_rest = core::sas_token::create(security_host, stranger_key, s.hub.now() + std::chrono::hours(1), "iothubowner");
    CHECK(rest.Get(security_hub::api("/devices/dev1"), security_hub::auth(forged_rest))->status == 401);
    const std::string service_token = s.service_token("service");
    REQUIRE(rest.Get(security_hub::api("/twins/dev1"), security_hub::auth(service_token))->status == 200);
    CHECK(s.hub.device_connection_string("dev1").ends_with("SharedAccessKey=" + primary));  // handed out, not logged

    secrets = {primary, secondary, generated, s.secondary_key("dev2"), s.policy_key("iothubowner"),
               s.policy_key("service"), s.hub.call([](core::hub& h) { return h.policies().find("iothubowner")->secondary_key; }),
               device_token, forged, forged_rest, owner_token, service_token};
    for (const auto& t : {device_token, forged, forged_rest, owner_token, service_token})
      for (auto& form : signature_forms(t)) secrets.push_back(form);
    dev1->disconnect();
    REQUIRE(s.wait_disconnected_at_hub("dev1"));
    // The hub's own password to the broker, from the configuration the launcher wrote.
    const std::string conf = read_all(data_dir / "mosquitto.conf");
    const auto at = conf.find("plugin_opt_hub_secret ");
    REQUIRE(at != std::string::npos);
    hub_secret = conf.substr(at + 22, conf.find('\n', at) - at - 22);
    REQUIRE(hub_secret.size() >= 16);
    s.hub.stop();  // everything flushed
  }

  std::vector<fs::path> written{tmp / "trace.jsonl"};
  for (const auto& entry : fs::recursive_directory_iterator(data_dir))
    if (entry.is_regular_file()) written.push_back(entry.path());
  CHECK(written.size() >= 7);  // the trace, mosquitto.conf, mosquitto.log, the CA and server certificates and keys
  for (const auto& file : written) {
    const std::string text = read_all(file);
    for (const auto& secret : secrets) {
      INFO(file.filename().string() << " must not hold " << secret);
      CHECK(text.find(secret) == std::string::npos);
    }
    if (file.filename() != "mosquitto.conf") {
      INFO(file.filename().string() << " must not hold the hub's secret");
      CHECK(text.find(hub_secret) == std::string::npos);
    }
  }
  // What was written is there, without the secrets: the refusal and the redacted keys.
  const std::string log = read_all(data_dir / "mosquitto.log");
  CHECK_THAT(log, Catch::Contains("mockhub: refused CONNECT of client 'dev2' from 127.0.0.1: Authentication failed for device 'dev2'"));
  const std::string trace = read_all(tmp / "trace.jsonl");
  CHECK_THAT(trace, Catch::Contains(R"("primaryKey":"<redacted>")"));
}

TEST_CASE("Security: the data directory is 0700 and the TLS keys and broker files 0600, whatever the umask",
          "[integration][security][secrets]") {
  temp_dir tmp;
  const fs::path data_dir = tmp / "nested" / "data";
  auto options = security_hub::defaults();
  options.data_dir = data_dir;
  options.tls = true;
  umask_scope open_umask(0);
  security_hub s(options);
  CHECK(mode_of(data_dir) == 0700U);
  CHECK(mode_of(data_dir / "ca-key.pem") == 0600U);
  CHECK(mode_of(data_dir / "server-key.pem") == 0600U);
  CHECK(mode_of(data_dir / "mosquitto.conf") == 0600U);  // holds the hub's secret
  CHECK(mode_of(data_dir / "mosquitto.log") == 0600U);
  // Certificates are public.
  CHECK(mode_of(data_dir / "ca.pem") == 0644U);
  CHECK(mode_of(data_dir / "server.pem") == 0644U);

  SECTION("a hub without a data directory uses a fresh private one") {
    auto temp = security_hub::defaults();
    temp.tls = true;
    security_hub t(temp);
    const fs::path dir = t.hub.ca_file().parent_path();
    CHECK(mode_of(dir) == 0700U);
    CHECK(mode_of(dir / "ca-key.pem") == 0600U);
    CHECK(mode_of(dir / "server-key.pem") == 0600U);
  }
}
