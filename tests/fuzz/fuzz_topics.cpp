// MQTT topics and property bags: what the broker plugin classifies (device_topics), the `$hub/`
// contract topics (hub_topics), the CONNECT username, and the broker link's property bag.
// Input: a topic; for the device checks, the identity is "lock-1" (module "m" when the first
// byte is odd). Invariants: nothing throws; a decoded `$hub/` topic encodes back to a topic that
// decodes to the same value; what a device may publish names its own identity; a `$rid` comes
// back non-empty; a property bag that decodes keeps system properties out of the application bag;
// the input read as a `$hub/` message batch is taken whole or not at all and frames back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "mock_hub/broker_link/property_bag.hpp"
#include "mock_hub/broker_plugin/device_topics.hpp"
#include "mock_hub/broker_plugin/hub_topics.hpp"
#include "mock_hub/broker_plugin/iothub_username.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/message_batch.hpp"

namespace bp = mockhub::broker_plugin;

namespace {

std::string encode_again(const bp::hub_topic& t) {
  switch (t.kind) {
    case bp::hub_topic_kind::in: return bp::hub_topics::in(t.client_id, t.topic);
    case bp::hub_topic_kind::out: return bp::hub_topics::out(t.client_id, t.topic);
    case bp::hub_topic_kind::conn: return bp::hub_topics::conn(t.client_id);
    case bp::hub_topic_kind::disc: return bp::hub_topics::disc(t.client_id);
    case bp::hub_topic_kind::sub: return bp::hub_topics::sub(t.client_id);
    case bp::hub_topic_kind::unsub: return bp::hub_topics::unsub(t.client_id);
    case bp::hub_topic_kind::kick: return bp::hub_topics::kick(t.client_id);
    case bp::hub_topic_kind::state: return std::string(bp::hub_topics::state);
    case bp::hub_topic_kind::auth: return std::string(bp::hub_topics::auth);
    case bp::hub_topic_kind::clock: return std::string(bp::hub_topics::clock);
    case bp::hub_topic_kind::resync: return std::string(bp::hub_topics::resync);
    case bp::hub_topic_kind::in_batch: return std::string(bp::hub_topics::in_batch);
    case bp::hub_topic_kind::out_batch: return std::string(bp::hub_topics::out_batch);
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool as_module = (data[0] & 1) != 0;
  const std::string_view topic(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bp::topic_identity who{.device_id = "lock-1", .module_id = as_module ? std::optional<std::string_view>("m")
                                                                             : std::nullopt};

  if (const auto kind = bp::classify_publish(topic, who)) {
    FUZZ_CHECK(!bp::hub_topics::is_hub_namespace(topic), "a device never publishes into $hub/");
    if (*kind == bp::publish_kind::telemetry)
      FUZZ_CHECK(topic.starts_with("devices/lock-1/"), "telemetry names the publisher");
    else
      FUZZ_CHECK(topic.starts_with("$iothub/"), "twin and method publishes are $iothub/ topics");
    if (*kind != bp::publish_kind::telemetry) FUZZ_CHECK(bp::request_id(topic).has_value(), "twin/method publish has a $rid");
  }
  if (bp::classify_filter(topic, who))
    FUZZ_CHECK(topic.find('\0') == std::string_view::npos && !bp::hub_topics::is_hub_namespace(topic),
               "an accepted filter has no NUL and is not $hub/");
  (void)bp::may_read(topic, who);
  if (const auto rid = bp::request_id(topic)) FUZZ_CHECK(!rid->empty(), "a $rid is never empty");

  if (const auto decoded = bp::parse_hub_topic(topic)) {
    const std::string encoded = encode_again(*decoded);
    const auto again = bp::parse_hub_topic(encoded);
    FUZZ_CHECK(again && *again == *decoded, "$hub/ topic decode -> encode -> decode");
  }
  (void)bp::parse_iothub_username(topic);

  if (const auto props = mockhub::broker_link::decode_property_bag(topic)) {
    for (const auto& [name, value] : props->application) {
      (void)value;
      FUZZ_CHECK(name != "$.mid" && name != "$.cid", "system properties are not application properties");
    }
  }
  // The same bytes as a `$hub/in` or `$hub/ctl/out` batch: read whole or not at all, and what is
  // read frames back to the same bytes.
  std::string reframed;
  bool visited = false;
  const bool framed = mockhub::core::message_batch::for_each(topic, [&](const mockhub::core::message_batch::message& m) {
    visited = true;
    FUZZ_CHECK(!m.client_id.empty() && !m.topic.empty(), "a batch's messages have a client id and a topic");
    FUZZ_CHECK(mockhub::core::message_batch::append(reframed, m), "a message read from a batch frames again");
  });
  FUZZ_CHECK(framed || !visited, "a malformed batch is visited not at all");
  if (framed) FUZZ_CHECK(reframed == topic, "batch decode -> encode gives the same bytes");

  if (const auto decoded = mockhub::core::url_decode(topic)) {
    const auto round = mockhub::core::url_decode(mockhub::core::url_encode(*decoded));
    FUZZ_CHECK(round && *round == *decoded, "url_encode -> url_decode");
  }
  return 0;
}
