#include "plugin_state.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "device_topics.hpp"
#include "hub_messages.hpp"
#include "iothub_username.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/message_batch.hpp"
#include "mock_hub/core/sas_authentication.hpp"
#include "mock_hub/core/sas_token.hpp"

namespace mockhub::broker_plugin {

namespace {

bool same_secret(std::string_view given, std::string_view expected) {
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

topic_identity identity_of(const connection& c) {
  topic_identity who{.device_id = c.info.device_id};
  if (c.info.module_id) who.module_id = *c.info.module_id;
  return who;
}

/// What the real hub grants: QoS 2 subscriptions get QoS 1 [Doc].
int granted_qos(int requested) { return std::min(requested, 1); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

plugin_config plugin_config::from_options(std::span<const std::pair<std::string_view, std::string_view>> options) {
  plugin_config config;
  bool have_secret = false;
  for (const auto& [key, value] : options) {
    if (key == "hub_secret") {
      config.hub_secret = std::string(value);
      have_secret = true;
    } else if (key == "hub_username") {
      config.hub_username = std::string(value);
    }
  }
  if (!have_secret || config.hub_secret.empty()) {
    throw std::invalid_argument("plugin_opt_hub_secret is required (the password of the hub's connection)");
  }
  if (config.hub_username.empty()) throw std::invalid_argument("plugin_opt_hub_username must not be empty");
  return config;
}

plugin_state::plugin_state(plugin_config config, broker_api& broker) : config_(std::move(config)), broker_(broker) {}

core::time_point plugin_state::now() const { return pinned_now_ ? *pinned_now_ : broker_.now(); }

void plugin_state::announce(const std::string& topic, const std::string& payload) {
  flush_to_hub();  // the device messages before this event go first
  if (hub_) broker_.publish_to(hub_->client_id, topic, payload, 1);
}

void plugin_state::on_tick() { flush_to_hub(); }

void plugin_state::flush_to_hub() {
  if (to_hub_.empty()) return;
  if (hub_) broker_.publish_to(hub_->client_id, hub_topics::in_batch, to_hub_, 1);
  to_hub_.clear();
}

auth_result plugin_state::refuse(const connect_attempt& attempt, std::string_view why) {
  broker_.log(log_level::notice,
              "mockhub: refused CONNECT of client " + in_quotes(attempt.client_id) + " from " +
                  std::string(attempt.address) + ": " + std::string(why));
  return auth_result::refused;
}

// --- CONNECT ---

auth_result plugin_state::on_basic_auth(const connect_attempt& attempt) {
  if (attempt.username && *attempt.username == config_.hub_username) {
    if (!attempt.password || !same_secret(*attempt.password, config_.hub_secret)) {
      return refuse(attempt, "wrong hub secret");
    }
    // Only the newest hub connection counts; an older one keeps its socket but loses every right.
    hub_ = hub_connection{.handle = attempt.handle, .client_id = std::string(attempt.client_id)};
    broker_.log(log_level::info, "mockhub: hub connected as client " + in_quotes(attempt.client_id));
    return auth_result::accepted;
  }
  return authenticate_device(attempt);
}

auth_result plugin_state::authenticate_device(const connect_attempt& attempt) {
  if (!attempt.username) return refuse(attempt, "no username");
  const auto username = parse_iothub_username(*attempt.username);
  if (!username) return refuse(attempt, "username " + in_quotes(*attempt.username) + " is not {host}/{deviceId}/...");
  const std::string expected_client_id = username->client_id();
  if (attempt.client_id != expected_client_id) {
    return refuse(attempt, "the client id must be " + in_quotes(expected_client_id) + " (from the username)");
  }
  if (!credentials_.ready()) {
    refuse(attempt, "the hub has not pushed credentials yet (closed without CONNACK: the device retries)");
    return auth_result::unavailable;
  }
  if (hub_ && attempt.client_id == hub_->client_id) return refuse(attempt, "that client id is the hub's");
  const device_credentials* credentials = credentials_.find(attempt.client_id);
  if (credentials == nullptr) return refuse(attempt, "no such identity");
  if (!credentials->enabled) return refuse(attempt, "the identity is disabled");
  if (!attempt.password) return refuse(attempt, "no password (SAS token)");

  // The SAS resource of a module is `{host}/devices/{device}/modules/{module}`.
  const std::string resource_id =
      username->module_id ? username->device_id + "/modules/" + *username->module_id : username->device_id;
  core::device_connect_grant grant;
  try {
    grant = core::authenticate_device_connect(
        core::device_connect_request{.password = *attempt.password,
                                     .host_name = credentials_.host(),
                                     .device_id = resource_id,
                                     .primary_key = credentials->primary_key,
                                     .secondary_key = credentials->secondary_key},
        credentials_.policies(), now());
  } catch (const core::hub_error& e) {
    return refuse(attempt, e.message());
  }

  connection_info info{.client_id = std::string(attempt.client_id),
                       .device_id = username->device_id,
                       .module_id = username->module_id,
                       .api_version = username->api_version(),
                       .client_type = username->client_type(),
                       .model_id = username->model_id(),
                       .clean_session = attempt.clean_session,
                       .keepalive = attempt.keepalive,
                       .address = std::string(attempt.address),
                       .protocol_version = attempt.protocol_version,
                       .policy = grant.policy_name,
                       // `se` as written (grant.expires saturates past the year 2262).
                       .expires = core::sas_token::parse(*attempt.password).expiry_seconds()};
  // A broker client object authenticates once; should it ever come back, close its old record first.
  if (const auto old = connections_.remove(attempt.handle)) {
    announce(hub_topics::disc(old->info.client_id), hub_messages::disc(old->gen).dump());
  }
  connections_.add(attempt.handle, std::move(info));
  const connection& added = *connections_.find(attempt.handle);
  announce(hub_topics::conn(added.info.client_id), hub_messages::conn(added).dump());
  return auth_result::accepted;
}

// --- ACL ---

acl_result plugin_state::on_acl_check(const void* handle, acl_access access, std::string_view topic, int qos) {
  if (hub_ && handle == hub_->handle) {
    switch (access) {
      case acl_access::write:
        return topic.starts_with("$hub/out/") || topic.starts_with("$hub/ctl/") ? acl_result::allowed
                                                                                : acl_result::denied;
      case acl_access::read:
      case acl_access::subscribe:
      case acl_access::unsubscribe:
        return hub_topics::is_hub_namespace(topic) ? acl_result::allowed : acl_result::denied;
    }
    return acl_result::denied;
  }
  if (const connection* device = connections_.find(handle)) return device_access(*device, handle, access, topic, qos);
  // Not the hub and not an accepted device: a replaced hub connection, or a device's will sent
  // after its DISCONNECT event (wills are not forwarded).
  return acl_result::denied;
}

acl_result plugin_state::device_access(const connection& device, const void* handle, acl_access access,
                                       std::string_view topic, int qos) {
  const topic_identity who = identity_of(device);
  const auto violation = [&](acl_result result, std::string_view why) {
    broker_.log(log_level::notice, "mockhub: closing " + in_quotes(device.info.client_id) + ": " + std::string(why) +
                                       " " + in_quotes(topic));
    return result;
  };
  switch (access) {
    case acl_access::read:
      return may_read(topic, who) ? acl_result::allowed : acl_result::denied;
    case acl_access::write:
      if (qos > 1) return violation(acl_result::qos_violation, "QoS 2 publish to");
      if (!classify_publish(topic, who)) return violation(acl_result::violation, "publish to unsupported topic");
      return acl_result::allowed;
    case acl_access::subscribe: {
      // Kicking a persistent session, 2.0.11 re-checks each filter it holds (check_subscription_acls)
      // before the DISCONNECT event. Not a new subscription: keep it, announce nothing (the hub
      // may already have forgotten the device, e.g. after deleting it).
      if (device.closing) return acl_result::allowed;
      if (!classify_filter(topic, who)) return violation(acl_result::violation, "subscribe to unsupported filter");
      const int granted = granted_qos(qos);
      if (connections_.subscribe(handle, topic, granted) == connection_table::subscribe_result::too_many) {
        return violation(acl_result::violation, "a sixth subscription");
      }
      announce(hub_topics::sub(device.info.client_id), hub_messages::sub(device.gen, topic, granted).dump());
      return acl_result::allowed;
    }
    case acl_access::unsubscribe:
      if (hub_topics::is_hub_namespace(topic)) return violation(acl_result::violation, "unsubscribe from");
      if (connections_.unsubscribe(handle, topic)) {
        announce(hub_topics::unsub(device.info.client_id), hub_messages::unsub(device.gen, topic).dump());
      }
      return acl_result::allowed;
  }
  return acl_result::denied;
}

// --- PUBLISH ---

message_result plugin_state::on_message(const void* handle, std::string_view topic, std::string_view payload,
                                        int qos) {
  if (hub_ && handle == hub_->handle) {
    handle_hub_message(topic, payload, qos);
    return {.what = message_result::action::drop};
  }
  if (const connection* device = connections_.find(handle)) {
    const topic_identity who = identity_of(*device);
    if (classify_publish(topic, who) == publish_kind::telemetry) {
      const std::size_t size = payload.size() + telemetry_property_bag(topic, who).size();
      if (size > max_telemetry_size) {
        broker_.log(log_level::notice, "mockhub: closing " + in_quotes(device->info.client_id) + ": telemetry of " +
                                           std::to_string(size) + " bytes (payload and property bag) is over " +
                                           std::to_string(max_telemetry_size));
        return {.what = message_result::action::close};
      }
    }
    if (!hub_) return {.what = message_result::action::drop};  // nobody to tell (devices are refused until it is back)
    if (!core::message_batch::append(to_hub_, {.client_id = device->info.client_id, .topic = topic, .payload = payload})) {
      broker_.log(log_level::warning, "mockhub: dropped a publish of " + in_quotes(device->info.client_id) + " that cannot be framed for the hub");
      return {.what = message_result::action::drop};
    }
    // A round of the broker's loop can read thousands of publishes; a full batch goes at once.
    if (to_hub_.size() >= core::message_batch::send_at_bytes) flush_to_hub();
    return {.what = message_result::action::drop};
  }
  return {.what = message_result::action::drop};  // unreachable: the ACL check refused it
}

void plugin_state::handle_hub_message(std::string_view topic, std::string_view payload, int qos) {
  const auto parsed = parse_hub_topic(topic);
  const auto ignore = [&](std::string_view why) {
    broker_.log(log_level::warning, "mockhub: ignored hub message on " + in_quotes(topic) + ": " + std::string(why));
  };
  if (!parsed) return ignore("not a topic of the contract");

  using handler = void (*)(plugin_state&, const hub_topic&, std::string_view payload, int qos);
  struct route {
    hub_topic_kind kind;
    handler handle;
  };
  static constexpr std::array routes{
      route{hub_topic_kind::out,
            [](plugin_state& s, const hub_topic& t, std::string_view p, int q) {
              if (hub_topics::is_hub_namespace(t.topic)) {
                s.broker_.log(log_level::warning, "mockhub: the hub may not send $hub topics to " + in_quotes(t.client_id));
                return;
              }
              s.broker_.publish_to(t.client_id, t.topic, p, q);
            }},
      route{hub_topic_kind::out_batch,
            [](plugin_state& s, const hub_topic&, std::string_view p, int) {
              // Checked whole before any message goes out: a malformed batch delivers nothing.
              const bool framed = core::message_batch::for_each(p, [&s](const core::message_batch::message& m) {
                if (hub_topics::is_hub_namespace(m.topic)) {
                  s.broker_.log(log_level::warning, "mockhub: the hub may not send $hub topics to " + in_quotes(m.client_id));
                  return;
                }
                s.broker_.publish_to(m.client_id, m.topic, m.payload, 0);
              });
              if (!framed) {
                s.broker_.log(log_level::warning, "mockhub: ignored hub message on " + in_quotes(hub_topics::out_batch) +
                                                      ": a malformed batch (" + std::to_string(p.size()) + " bytes)");
              }
            }},
      route{hub_topic_kind::auth,
            [](plugin_state& s, const hub_topic&, std::string_view p, int) {
              try {
                s.credentials_.apply(p);
              } catch (const std::invalid_argument& e) {
                s.broker_.log(log_level::warning, std::string("mockhub: ignored ") + e.what());
              }
            }},
      route{hub_topic_kind::clock, [](plugin_state& s, const hub_topic&, std::string_view p, int) { s.set_clock(p); }},
      route{hub_topic_kind::kick,
            [](plugin_state& s, const hub_topic& t, std::string_view, int) {
              if (s.hub_ && t.client_id == s.hub_->client_id) return;  // never the hub itself
              s.connections_.set_closing(t.client_id, true);
              // Its DISCONNECT event announces $hub/disc.
              if (!s.broker_.kick(t.client_id)) s.connections_.set_closing(t.client_id, false);
            }},
      route{hub_topic_kind::resync,
            [](plugin_state& s, const hub_topic&, std::string_view, int) {
              s.announce(std::string(hub_topics::state), hub_messages::state(s.connections_).dump());
            }},
  };
  const auto it = std::ranges::find(routes, parsed->kind, &route::kind);
  if (it == routes.end()) return ignore("the hub may only publish $hub/out/... and $hub/ctl/...");
  it->handle(*this, *parsed, payload, qos);
}

void plugin_state::set_clock(std::string_view payload) {
  const auto message = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  const auto now = message.is_object() ? message.find("now") : message.end();
  // Up to 9e9 s (year 2255): a time_point counts nanoseconds in 64 bits.
  const bool valid = message.is_object() && now != message.end() &&
                     (now->is_null() || (now->is_number_integer() && now->get<std::int64_t>() >= 0 &&
                                         now->get<std::int64_t>() <= 9'000'000'000));
  if (!valid) {
    broker_.log(log_level::warning, "mockhub: ignored $hub/ctl/clock: expected {\"now\": <Unix seconds> or null}");
    return;
  }
  if (now->is_null()) {
    pinned_now_.reset();
  } else {
    pinned_now_ = core::time_point(std::chrono::seconds(now->get<std::int64_t>()));
  }
}

// --- DISCONNECT ---

void plugin_state::on_disconnect(const void* handle) {
  if (hub_ && handle == hub_->handle) {
    broker_.log(log_level::info, "mockhub: hub disconnected; refusing devices until it pushes credentials again");
    to_hub_.clear();  // for a hub that is gone
    hub_.reset();
    credentials_.clear();
    return;
  }
  if (auto gone = connections_.remove(handle)) {
    announce(hub_topics::disc(gone->info.client_id), hub_messages::disc(gone->gen).dump());
  }
}

}  // namespace mockhub::broker_plugin
