// The mosquitto 2.0.11 plugin entry points (plugin API v5). Thin: it registers the callbacks,
// turns each broker event into a plugin_state call, and maps the result (or any exception) to a
// MOSQ_ERR_* code. Everything else lives in plugin_state and the files it uses.
//
// Return codes, as the 2.0.11 broker reads them (src/handle_connect.c, handle_publish.c,
// handle_subscribe.c, handle_unsubscribe.c, security.c):
// - BASIC_AUTH: MOSQ_ERR_SUCCESS admits, MOSQ_ERR_AUTH answers CONNACK 5 Not authorized.
// - ACL_CHECK: MOSQ_ERR_ACL_DENIED drops a publish (still acknowledged), refuses a subscription
//   in SUBACK (0x80) or skips a delivery; any other error makes the broker close the connection
//   at once, which is what the real hub does to a device that breaks the protocol.
// - MESSAGE: MOSQ_ERR_ACL_DENIED drops the publish (still acknowledged): a device's publish goes
//   to the hub in the plugin's batch instead. Any other error (MOSQ_ERR_PROTOCOL for oversize
//   telemetry) frees the message unacknowledged and closes the connection.
// - TICK: once per round of the broker's loop, after the round's reads; messages the plugin
//   queues (mosquitto_broker_publish*) go out at the start of the next round.

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "plugin_state.hpp"

namespace {

using namespace mockhub::broker_plugin;

/// broker_api over the functions the broker exports to plugins.
class mosquitto_broker final : public broker_api {
 public:
  void publish_to(std::string_view client_id, std::string_view topic, std::string_view payload, int qos) override {
    const std::string id(client_id);
    const std::string t(topic);
    const int rc = mosquitto_broker_publish_copy(id.c_str(), t.c_str(), static_cast<int>(payload.size()),
                                                 payload.data(), qos, false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      log(log_level::warning, "mockhub: could not queue " + t + " for " + id + ": " + mosquitto_strerror(rc));
    }
  }

  bool kick(std::string_view client_id) override {
    const std::string id(client_id);
    return mosquitto_kick_client_by_clientid(id.c_str(), false) == MOSQ_ERR_SUCCESS;
  }

  void log(log_level level, std::string_view message) override {
    int mosq_level = MOSQ_LOG_INFO;
    switch (level) {
      case log_level::debug: mosq_level = MOSQ_LOG_DEBUG; break;
      case log_level::info: mosq_level = MOSQ_LOG_INFO; break;
      case log_level::notice: mosq_level = MOSQ_LOG_NOTICE; break;
      case log_level::warning: mosq_level = MOSQ_LOG_WARNING; break;
      case log_level::error: mosq_level = MOSQ_LOG_ERR; break;
    }
    mosquitto_log_printf(mosq_level, "%.*s", static_cast<int>(message.size()), message.data());
  }

  mockhub::core::time_point now() const override { return std::chrono::system_clock::now(); }
};

/// The userdata of every callback: the broker seam and the state that uses it.
struct plugin_instance {
  mosquitto_plugin_id_t* id;
  mosquitto_broker broker;
  plugin_state state;

  plugin_instance(mosquitto_plugin_id_t* identifier, plugin_config config)
      : id(identifier), state(std::move(config), broker) {}
};

std::optional<std::string_view> optional_text(const char* text) {
  return text ? std::optional<std::string_view>(text) : std::nullopt;
}
std::string_view text_or_empty(const char* text) { return text ? std::string_view(text) : std::string_view(); }

/// Runs a callback body; an exception becomes `on_error` (MOSQ_ERR_NOMEM for bad_alloc), logged.
template <class F>
int guarded(int on_error, const char* event, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return MOSQ_ERR_NOMEM;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "mockhub: %s failed: %s", event, e.what());
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "mockhub: %s failed", event);
  }
  return on_error;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto& self = *static_cast<plugin_instance*>(userdata);
  auto& event = *static_cast<mosquitto_evt_basic_auth*>(event_data);
  return guarded(MOSQ_ERR_AUTH, "BASIC_AUTH", [&] {
    const connect_attempt attempt{.handle = event.client,
                                  .client_id = text_or_empty(mosquitto_client_id(event.client)),
                                  .username = optional_text(event.username),
                                  .password = optional_text(event.password),
                                  .address = text_or_empty(mosquitto_client_address(event.client)),
                                  .keepalive = mosquitto_client_keepalive(event.client),
                                  .clean_session = mosquitto_client_clean_session(event.client),
                                  .protocol_version = mosquitto_client_protocol_version(event.client)};
    switch (self.state.on_basic_auth(attempt)) {
      case auth_result::accepted:
        return MOSQ_ERR_SUCCESS;
      case auth_result::unavailable:
        return MOSQ_ERR_UNKNOWN;  // 2.0.11 closes the connection without a CONNACK
      case auth_result::refused:
        break;
    }
    return MOSQ_ERR_AUTH;
  });
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto& self = *static_cast<plugin_instance*>(userdata);
  auto& event = *static_cast<mosquitto_evt_acl_check*>(event_data);
  return guarded(MOSQ_ERR_ACL_DENIED, "ACL_CHECK", [&] {
    acl_access access = acl_access::read;
    switch (event.access) {
      case MOSQ_ACL_READ: access = acl_access::read; break;
      case MOSQ_ACL_WRITE: access = acl_access::write; break;
      case MOSQ_ACL_SUBSCRIBE: access = acl_access::subscribe; break;
      case MOSQ_ACL_UNSUBSCRIBE: access = acl_access::unsubscribe; break;
      default: return MOSQ_ERR_ACL_DENIED;
    }
    switch (self.state.on_acl_check(event.client, access, text_or_empty(event.topic), event.qos)) {
      case acl_result::allowed: return MOSQ_ERR_SUCCESS;
      case acl_result::denied: return MOSQ_ERR_ACL_DENIED;
      case acl_result::violation: return MOSQ_ERR_PROTOCOL;            // "disconnected due to protocol error"
      case acl_result::qos_violation: return MOSQ_ERR_NOT_SUPPORTED;   // "QoS too high or retain not supported"
    }
    return MOSQ_ERR_ACL_DENIED;
  });
}

int on_message(int, void* event_data, void* userdata) {
  auto& self = *static_cast<plugin_instance*>(userdata);
  auto& event = *static_cast<mosquitto_evt_message*>(event_data);
  return guarded(MOSQ_ERR_ACL_DENIED, "MESSAGE", [&] {
    const std::string_view payload(static_cast<const char*>(event.payload), event.payload ? event.payloadlen : 0);
    message_result result = self.state.on_message(event.client, text_or_empty(event.topic), payload, event.qos);
    switch (result.what) {
      case message_result::action::keep:
        return MOSQ_ERR_SUCCESS;
      case message_result::action::drop:
        return MOSQ_ERR_ACL_DENIED;
      case message_result::action::close:
        return MOSQ_ERR_PROTOCOL;  // no PUBACK; the broker closes the connection
    }
    return MOSQ_ERR_ACL_DENIED;
  });
}

int on_tick(int, void*, void* userdata) {
  auto& self = *static_cast<plugin_instance*>(userdata);
  return guarded(MOSQ_ERR_SUCCESS, "TICK", [&] {
    self.state.on_tick();
    return MOSQ_ERR_SUCCESS;
  });
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto& self = *static_cast<plugin_instance*>(userdata);
  auto& event = *static_cast<mosquitto_evt_disconnect*>(event_data);
  return guarded(MOSQ_ERR_SUCCESS, "DISCONNECT", [&] {
    self.state.on_disconnect(event.client);
    return MOSQ_ERR_SUCCESS;
  });
}

struct registration {
  int event;
  MOSQ_FUNC_generic_callback callback;
};
constexpr registration registrations[] = {
    {MOSQ_EVT_BASIC_AUTH, on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, on_acl_check},
    {MOSQ_EVT_MESSAGE, on_message},
    {MOSQ_EVT_DISCONNECT, on_disconnect},
    {MOSQ_EVT_TICK, on_tick},  // after every round of the broker's loop (2.0.11 src/loop.c)
};

void unregister_all(mosquitto_plugin_id_t* id) {
  for (const registration& r : registrations) mosquitto_callback_unregister(id, r.event, r.callback, nullptr);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int mosquitto_plugin_version(int supported_version_count,
                                                                    const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

__attribute__((visibility("default"))) int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                                                                 mosquitto_opt* options, int option_count) {
  try {
    std::vector<std::pair<std::string_view, std::string_view>> settings;
    for (int i = 0; i < option_count; ++i) {
      settings.emplace_back(text_or_empty(options[i].key), text_or_empty(options[i].value));
    }
    auto instance = std::make_unique<plugin_instance>(identifier, plugin_config::from_options(settings));
    for (const registration& r : registrations) {
      const int rc = mosquitto_callback_register(identifier, r.event, r.callback, nullptr, instance.get());
      if (rc != MOSQ_ERR_SUCCESS) {
        unregister_all(identifier);
        mosquitto_log_printf(MOSQ_LOG_ERR, "mockhub: could not register a callback: %s", mosquitto_strerror(rc));
        return rc;
      }
    }
    mosquitto_log_printf(MOSQ_LOG_INFO, "mockhub: broker plugin ready (hub username '%s')",
                         instance->state.config().hub_username.c_str());
    *userdata = instance.release();
    return MOSQ_ERR_SUCCESS;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "mockhub: plugin init failed: %s", e.what());
    return MOSQ_ERR_INVAL;
  } catch (...) {
    return MOSQ_ERR_UNKNOWN;
  }
}

__attribute__((visibility("default"))) int mosquitto_plugin_cleanup(void* userdata, mosquitto_opt*, int) {
  std::unique_ptr<plugin_instance> instance(static_cast<plugin_instance*>(userdata));
  if (instance) unregister_all(instance->id);
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
