#include "broker_link.hpp"

#include <mosquitto.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <stdexcept>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/message_batch.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/core/time_format.hpp"
#include "property_bag.hpp"

namespace mockhub::broker_link {

using nlohmann::json;

namespace {

std::optional<core::device_subscription> subscription_of(std::string_view filter) {
  if (filter == "$iothub/methods/POST/#") return core::device_subscription::methods;
  if (filter == "$iothub/twin/res/#") return core::device_subscription::twin_responses;
  if (filter == "$iothub/twin/PATCH/properties/desired/#") return core::device_subscription::desired_patches;
  if (filter.starts_with("devices/") && filter.ends_with("/messages/devicebound/#"))
    return core::device_subscription::cloud_to_device;
  return std::nullopt;
}

// The JSON body of an error over MQTT, shaped like the inner message of the REST error body.
std::string error_body(const core::hub_error& e) {
  return json{{"errorCode", e.code()}, {"message", e.what()}}.dump();
}

// The plugin numbers connections from 1 again after a broker restart; the link's session count in
// the high bits keeps a connection of the restarted broker from passing for one of the old.
std::uint64_t generation_of(const json& j, std::uint64_t link_session) {
  return (link_session << 40) | (j.value("gen", std::uint64_t{0}) & ((std::uint64_t{1} << 40) - 1));
}

core::connection_info connection_from(const json& j, std::uint64_t link_session) {
  core::connection_info c;
  c.generation = generation_of(j, link_session);
  c.clean_session = j.value("clean_session", false);
  auto str = [&j](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{}; };
  c.api_version = str("api_version");
  c.client_type = str("client_type");
  c.model_id = str("model_id");
  if (j.contains("expires") && j["expires"].is_number_integer())
    c.token_expiry = core::sas_token::expiry_at(j["expires"].get<std::int64_t>());  // `se` may lie past 2262
  return c;
}

}  // namespace

json device_credentials(const core::device_identity* d) {
  if (!d) return nullptr;
  return {{"primary", d->primary_key}, {"secondary", d->secondary_key}, {"enabled", d->status == core::device_status::enabled}};
}

broker_link::broker_link(broker_link_options options, executor post)
    : options_(std::move(options)), post_(std::move(post)) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(options_.client_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("broker_link: mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_username_pw_set(mosq_, options_.username.c_str(), options_.secret.c_str());
  mosquitto_reconnect_delay_set(mosq_, static_cast<unsigned>(std::max<long long>(1, options_.reconnect_min.count() / 1000)),
                                static_cast<unsigned>(std::max<long long>(1, options_.reconnect_max.count() / 1000)), true);
  mosquitto_connect_callback_set(mosq_, &broker_link::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &broker_link::on_disconnect);
  mosquitto_message_callback_set(mosq_, &broker_link::on_message);
  mosquitto_publish_callback_set(mosq_, &broker_link::on_publish);
}

broker_link::~broker_link() {
  stop();
  mosquitto_destroy(mosq_);
}

void broker_link::start() {
  if (started_) return;
  if (!hub_) throw std::logic_error("broker_link::start: attach a hub first");
  started_ = true;
  const int rc = mosquitto_connect_async(mosq_, options_.host.c_str(), options_.port, options_.keepalive_seconds);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
    throw std::runtime_error(std::string("broker_link: cannot connect: ") + mosquitto_strerror(rc));
  mosquitto_loop_start(mosq_);
}

void broker_link::stop() {
  if (!started_) return;
  started_ = false;
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
}

bool broker_link::wait_ready(std::chrono::milliseconds timeout, std::uint64_t at_least) {
  std::unique_lock lock(ready_mutex_);
  return ready_cv_.wait_for(lock, timeout, [this, at_least] { return ready_count_.load() >= at_least; });
}

void broker_link::on_connect(struct mosquitto*, void* self, int rc) {
  auto* link = static_cast<broker_link*>(self);
  if (rc != 0) {
    std::cerr << "mockhub: the broker refused the hub's connection (" << mosquitto_connack_string(rc) << ")\n";
    return;
  }
  mosquitto_subscribe(link->mosq_, nullptr, "$hub/in/#", 1);
  // Clock and credentials first, then ask who is connected: the plugin admits devices only after
  // a snapshot. Through the inbox, so that it runs after every message of the connection before.
  link->to_executor({}, {}, [link] {
    ++link->link_session_;  // before any event of this connection is handled (they are posted after)
    {  // the clock before the credentials: the plugin admits devices as soon as it has them
      std::lock_guard lock(link->clock_mutex_);
      if (!link->clock_payload_.empty()) link->publish("$hub/ctl/clock", link->clock_payload_, 1);
    }
    link->push_snapshot();
    link->publish("$hub/ctl/resync", "", 1);
    {
      std::lock_guard lock(link->ready_mutex_);
      ++link->ready_count_;
    }
    link->ready_cv_.notify_all();
  });
}

void broker_link::on_disconnect(struct mosquitto*, void*, int rc) {
  if (rc != 0) std::cerr << "mockhub: lost the broker connection; reconnecting\n";
}

void broker_link::on_message(struct mosquitto*, void* self, const struct mosquitto_message* msg) {
  auto* link = static_cast<broker_link*>(self);
  link->to_executor(std::string(msg->topic),
                    std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)), {});
}

void broker_link::to_executor(std::string topic, std::string payload, std::function<void()> task) {
  bool first = false;
  {
    std::lock_guard lock(inbox_mutex_);
    first = inbox_.empty();
    inbox_.push_back({std::move(topic), std::move(payload), std::move(task)});
  }
  if (first) post_([this] { drain_inbox(); });
}

// On the executor: everything queued so far, in arrival order. What arrives meanwhile waits for
// the next drain, which its arrival posted.
void broker_link::drain_inbox() {
  std::vector<inbox_entry> batch;
  {
    std::lock_guard lock(inbox_mutex_);
    batch.swap(inbox_);
  }
  for (auto& e : batch) {
    try {
      if (e.task) e.task();
      else handle(std::move(e.topic), std::move(e.payload));
    } catch (const std::exception& ex) {  // as the executor reports a failed task; the burst goes on
      std::cerr << "mockhub: a hub task failed: " << ex.what() << "\n";
    } catch (...) {
      std::cerr << "mockhub: a hub task failed\n";
    }
  }
}

// On the executor: one `$hub/...` message.
void broker_link::handle(std::string topic, std::string payload) {
  std::string_view t(topic);
  if (!t.starts_with("$hub/")) return;
  t.remove_prefix(5);
  const auto slash = t.find('/');
  const std::string_view kind = t.substr(0, slash);
  const std::string_view rest = slash == std::string_view::npos ? std::string_view{} : t.substr(slash + 1);

  if (kind == "in" && slash == std::string_view::npos) {  // $hub/in: the plugin's batch of device messages
    const bool framed = core::message_batch::for_each(payload, [this](const core::message_batch::message& m) {
      try {  // one device's bad message does not cost the others theirs
        handle_device_publish(std::string(m.client_id), m.topic, std::string(m.payload));
      } catch (const std::exception& ex) {
        std::cerr << "mockhub: a hub task failed: " << ex.what() << "\n";
      }
    });
    if (!framed) std::cerr << "mockhub: ignoring a malformed $hub/in batch (" << payload.size() << " bytes)\n";
    return;
  }
  json body = json::parse(payload, nullptr, false);
  if (body.is_discarded()) {
    std::cerr << "mockhub: ignoring a malformed plugin event on $hub/" << t << "\n";
    return;
  }
  if (kind == "state") {
    std::vector<std::pair<std::string, core::device_session>> live;
    for (const auto& c : body.value("connections", json::array())) {
      core::device_session s;
      s.connection = connection_from(c, link_session_);
      for (const auto& f : c.value("filters", json::array()))
        if (const auto sub = subscription_of(f.value("filter", ""))) s.subscriptions |= static_cast<std::uint8_t>(*sub);
      live.emplace_back(c.value("id", ""), s);
    }
    hub_->connections_resynced(live);
    return;
  }
  const auto id = core::url_decode(rest);
  if (!id) return;
  const auto gen = generation_of(body, link_session_);
  if (observer_) {
    if (kind == "conn") observer_->device_connected(*id, body);
    else if (kind == "disc") observer_->device_disconnected(*id);
    else if (kind == "sub" || kind == "unsub") observer_->device_subscribed(*id, body.value("filter", ""), kind == "sub");
  }
  if (kind == "conn") {
    hub_->device_connected(*id, connection_from(body, link_session_));
  } else if (kind == "disc") {
    hub_->device_disconnected(*id, gen);
  } else if (kind == "sub" || kind == "unsub") {
    const auto sub = subscription_of(body.value("filter", ""));
    if (!sub) return;
    if (kind == "sub") hub_->device_subscribed(*id, gen, *sub);
    else hub_->device_unsubscribed(*id, gen, *sub);
  }
}

void broker_link::handle_device_publish(const std::string& device_id, std::string_view topic, std::string payload) {
  static constexpr std::string_view twin_get = "$iothub/twin/GET/";
  static constexpr std::string_view twin_patch = "$iothub/twin/PATCH/properties/reported/";
  static constexpr std::string_view method_res = "$iothub/methods/res/";
  if (observer_) observer_->device_published(device_id, topic, payload);

  if (topic.starts_with(twin_get) || topic.starts_with(twin_patch)) {
    const std::string rid = core::topic_query_value(topic, "$rid").value_or("");
    std::string status = "200", body, suffix;
    try {
      if (topic.starts_with(twin_get)) {
        body = hub_->device_get_twin(device_id).dump();
      } else {
        json patch = json::parse(payload, nullptr, false);
        if (patch.is_discarded())
          throw core::errors::argument_invalid("The reported properties patch is not valid JSON.");
        const auto version = hub_->device_update_reported(device_id, patch);
        status = "204";
        suffix = "&$version=" + std::to_string(version);
      }
    } catch (const core::hub_error& e) {
      status = std::to_string(e.http_status());
      body = error_body(e);
    }
    publish_to_device(device_id, "$iothub/twin/res/" + status + "/?$rid=" + core::url_encode(rid) + suffix, body, 0);
    return;
  }
  if (topic.starts_with(method_res)) {
    std::string_view rest = topic.substr(method_res.size());
    const auto slash = rest.find('/');
    int status = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + (slash == std::string_view::npos ? rest.size() : slash), status);
    (void)end;
    const auto rid = core::topic_query_value(topic, "$rid");
    if (ec != std::errc{} || !rid) return;  // the plugin only lets well-formed topics through
    hub_->device_method_response(device_id, *rid, status, payload);
    return;
  }
  const std::string events_prefix = "devices/" + device_id + "/messages/events/";
  if (topic.starts_with(events_prefix)) {
    std::string_view bag = topic.substr(events_prefix.size());
    if (bag.starts_with('?')) bag.remove_prefix(1);
    const auto props = decode_property_bag(bag);
    core::device_to_cloud_message m;
    m.device_id = device_id;
    m.body = std::move(payload);
    if (props) {
      m.system = props->system;
      m.application = props->application;
    }
    try {
      hub_->device_sent_telemetry(std::move(m));
    } catch (const core::hub_error&) {
      // The identity was deleted while the message was on its way: dropped, as the hub would.
    }
  }
}

void broker_link::push_snapshot() {
  json devices = json::object();
  hub_->registry().for_each_identity([&devices](const core::device_identity& d) { devices[d.device_id] = device_credentials(&d); });
  json policies = json::array();
  for (const auto& p : hub_->policies().list())
    policies.push_back({{"name", p.name},
                        {"primary", p.primary_key},
                        {"secondary", p.secondary_key},
                        {"device_connect", p.rights.contains(core::permission::device_connect)}});
  publish_credentials(json{{"mode", "snapshot"}, {"host", hub_->options().host_name}, {"devices", devices}, {"policies", policies}}.dump());
}

void broker_link::push_clock(std::optional<core::time_point> now) {
  json body = {{"now", nullptr}};
  if (now) body["now"] = std::chrono::duration_cast<std::chrono::seconds>(now->time_since_epoch()).count();
  std::lock_guard lock(clock_mutex_);
  clock_payload_ = body.dump();  // a restarted broker gets it again on reconnect
  publish("$hub/ctl/clock", clock_payload_, 1);
}

int broker_link::publish(const std::string& topic, std::string_view payload, int qos) {
  flush_batch();  // what was batched before this goes first: order is kept
  return publish_now(topic, payload, qos);
}

int broker_link::publish_now(const std::string& topic, std::string_view payload, int qos) {
  int mid = 0;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, false);
  if (rc == MOSQ_ERR_SUCCESS) return mid;
  if (rc != MOSQ_ERR_NO_CONN) {
    const std::string_view shown = std::string_view(topic).substr(0, 200);  // a refused topic may be 70 KB long
    std::cerr << "mockhub: publish to " << shown << (shown.size() < topic.size() ? "..." : "") << " (" << topic.size()
              << " bytes) failed: " << mosquitto_strerror(rc) << "\n";
  }
  return 0;
}

void broker_link::publish_credentials(const std::string& payload) {
  // No lock is held across mosquitto_publish (the network thread takes auth_mutex_ in
  // on_publish). The PUBACK may come back before we register the mid: then it is among the
  // recent acknowledgements.
  const int mid = publish("$hub/ctl/auth", payload, 1);
  if (mid == 0) return;
  std::lock_guard lock(auth_mutex_);
  if (std::find(recent_acks_.begin(), recent_acks_.end(), mid) == recent_acks_.end()) auth_pending_[mid] = ++auth_sequence_;
}

void broker_link::on_publish(struct mosquitto*, void* self, int mid) {
  auto* link = static_cast<broker_link*>(self);
  {
    std::lock_guard lock(link->auth_mutex_);
    if (link->auth_pending_.erase(mid) == 0) {
      link->recent_acks_.push_back(mid);
      if (link->recent_acks_.size() > 1024) link->recent_acks_.pop_front();
      return;
    }
  }
  link->auth_cv_.notify_all();
}

bool broker_link::wait_credentials_applied(std::chrono::milliseconds timeout) {
  std::unique_lock lock(auth_mutex_);
  const std::uint64_t target = auth_sequence_;
  return auth_cv_.wait_for(lock, timeout, [&] {
    return std::none_of(auth_pending_.begin(), auth_pending_.end(), [&](const auto& p) { return p.second <= target; });
  });
}

void broker_link::publish_to_device(std::string_view device_id, std::string_view topic, std::string_view payload, int qos) {
  if (observer_) observer_->hub_published(device_id, topic, payload);
  if (qos == 0 && batch(device_id, topic, payload)) return;
  static constexpr std::string_view out = "$hub/out/";
  const std::string id = core::url_encode(device_id);
  std::string full;
  full.reserve(out.size() + id.size() + 1 + topic.size());
  full.append(out).append(id).append(1, '/').append(topic);
  publish(full, payload, qos);
}

// QoS 0 messages for devices wait in one batch ($hub/ctl/out) until the executor has finished
// what it is doing (a drain of the inbox answers hundreds of devices), or the batch is full.
bool broker_link::batch(std::string_view device_id, std::string_view topic, std::string_view payload) {
  const core::message_batch::message m{.client_id = device_id, .topic = topic, .payload = payload};
  if (core::message_batch::framed_size(m) > core::message_batch::send_at_bytes) return false;  // on its own, unbatched
  bool post_flush = false;
  std::string full;
  {
    std::lock_guard lock(batch_mutex_);
    const bool over = batch_.size() + core::message_batch::framed_size(m) > core::message_batch::send_at_bytes;
    if (over) full.swap(batch_);
    if (!core::message_batch::append(batch_, m)) {  // a topic over 65,535 bytes: it goes alone, after the batch
      if (over) batch_.swap(full);                   // the batch as it was: publish() sends it first
      return false;
    }
    if (!flush_posted_) post_flush = flush_posted_ = true;
  }
  if (!full.empty()) publish_now(std::string(out_batch_topic), full, 0);
  if (post_flush) post_([this] { flush_batch(); });
  return true;
}

void broker_link::flush_batch() {
  std::string pending;
  {
    std::lock_guard lock(batch_mutex_);
    flush_posted_ = false;
    if (batch_.empty()) return;
    pending.swap(batch_);
  }
  publish_now(std::string(out_batch_topic), pending, 0);
  pending.clear();
  std::lock_guard lock(batch_mutex_);
  if (batch_.empty()) batch_.swap(pending);  // keep the capacity for the next batch
}

void broker_link::send_desired_patch(std::string_view device_id, const json& patch) {
  publish_to_device(device_id, "$iothub/twin/PATCH/properties/desired/?$version=" + patch.value("$version", json(0)).dump(),
                    patch.dump(), 0);
}

void broker_link::send_method_request(std::string_view device_id, std::string_view method_name, std::string_view request_id,
                                      const json& payload) {
  send_serialized_method_request(device_id, method_name, request_id, payload.dump());
}

void broker_link::send_serialized_method_request(std::string_view device_id, std::string_view method_name,
                                                 std::string_view request_id, std::string_view payload_json) {
  static constexpr std::string_view post = "$iothub/methods/POST/", rid = "/?$rid=";
  const std::string name = core::url_encode(method_name), id = core::url_encode(request_id);
  std::string topic;
  topic.reserve(post.size() + name.size() + rid.size() + id.size());
  topic.append(post).append(name).append(rid).append(id);
  // A null payload is the text `null`: device SDKs JSON-parse any body.
  publish_to_device(device_id, topic, payload_json, 0);
}

void broker_link::send_cloud_to_device(std::string_view device_id, const core::cloud_to_device_message& message) {
  publish_to_device(device_id, "devices/" + std::string(device_id) + "/messages/devicebound/" + encode_property_bag(message),
                    message.body, 1);
}

void broker_link::identity_changed(std::string_view device_id, const core::device_identity* identity) {
  publish_credentials(json{{"mode", "delta"}, {"devices", {{std::string(device_id), device_credentials(identity)}}}}.dump());
}

void broker_link::disconnect(std::string_view device_id) {
  if (observer_) observer_->device_kicked(device_id);
  publish("$hub/ctl/kick/" + core::url_encode(device_id), "", 1);
}

}  // namespace mockhub::broker_link
