#include "plugin_mqtt_client.hpp"

#include <mosquitto.h>

#include <stdexcept>

namespace mockhub::test {

namespace {
void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}
}  // namespace

plugin_mqtt_client::plugin_mqtt_client(const std::string& client_id, bool clean_session) {
  init_library();
  mosq_ = mosquitto_new(client_id.c_str(), clean_session, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq_, &on_connect);
  mosquitto_disconnect_callback_set(mosq_, &on_disconnect);
  mosquitto_subscribe_callback_set(mosq_, &on_subscribe);
  mosquitto_unsubscribe_callback_set(mosq_, &on_unsubscribe);
  mosquitto_publish_callback_set(mosq_, &on_publish);
  mosquitto_message_callback_set(mosq_, &on_message);
}

plugin_mqtt_client::~plugin_mqtt_client() {
  stop_loop();
  mosquitto_destroy(mosq_);
}

void plugin_mqtt_client::stop_loop() {
  if (!loop_started_) return;
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  loop_started_ = false;
}

int plugin_mqtt_client::connect(int port, const std::string& username, const std::optional<std::string>& password,
                                int keepalive) {
  if (mosquitto_username_pw_set(mosq_, username.c_str(), password ? password->c_str() : nullptr) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("mosquitto_username_pw_set failed");
  }
  const int rc = mosquitto_connect(mosq_, "127.0.0.1", port, keepalive);
  if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string("mosquitto_connect: ") + mosquitto_strerror(rc));
  if (mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) throw std::runtime_error("mosquitto_loop_start failed");
  loop_started_ = true;
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, patience, [this] { return connack_ || closed_; })) {
    throw std::runtime_error("no CONNACK within " + std::to_string(patience.count()) + " s");
  }
  return connack_ ? *connack_ : -1;
}

std::optional<int> plugin_mqtt_client::subscribe(const std::string& filter, int qos) {
  int mid = 0;
  if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) return std::nullopt;
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, patience, [&] { return subacks_.contains(mid) || closed_; });
  if (!subacks_.contains(mid)) return std::nullopt;
  return subacks_.at(mid);
}

bool plugin_mqtt_client::unsubscribe(const std::string& filter) {
  int mid = 0;
  if (mosquitto_unsubscribe(mosq_, &mid, filter.c_str()) != MOSQ_ERR_SUCCESS) return false;
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, patience, [&] { return unsubacks_.contains(mid) || closed_; }) &&
         unsubacks_.contains(mid);
}

bool plugin_mqtt_client::publish(const std::string& topic, std::string_view payload, int qos, bool retain) {
  int mid = 0;
  if (mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain) !=
      MOSQ_ERR_SUCCESS) {
    return false;
  }
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, patience, [&] { return pubacks_.contains(mid) || closed_; }) &&
         pubacks_.contains(mid);
}

void plugin_mqtt_client::publish_nowait(const std::string& topic, std::string_view payload, int qos) {
  mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, false);
}

std::optional<plugin_mqtt_client::message> plugin_mqtt_client::next_message() {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, patience, [this] { return !messages_.empty(); })) return std::nullopt;
  message m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

bool plugin_mqtt_client::wait_disconnected() {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, patience, [this] { return closed_; });
}

bool plugin_mqtt_client::connected() {
  std::lock_guard lock(mutex_);
  return connack_ == 0 && !closed_;
}

void plugin_mqtt_client::disconnect() {
  mosquitto_disconnect(mosq_);
  wait_disconnected();
  stop_loop();
}

void plugin_mqtt_client::on_connect(mosquitto* mosq, void* self, int rc) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  // A refused CONNECT ends this client: keep libmosquitto's loop from reconnecting.
  if (rc != 0) mosquitto_disconnect(mosq);
  std::lock_guard lock(c->mutex_);
  c->connack_ = rc;
  c->changed_.notify_all();
}

void plugin_mqtt_client::on_disconnect(mosquitto* mosq, void* self, int) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  mosquitto_disconnect(mosq);  // marks the client disconnected: the loop ends instead of reconnecting
  std::lock_guard lock(c->mutex_);
  c->closed_ = true;
  c->changed_.notify_all();
}

void plugin_mqtt_client::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->subacks_[mid] = count > 0 ? granted[0] : -1;
  c->changed_.notify_all();
}

void plugin_mqtt_client::on_unsubscribe(mosquitto*, void* self, int mid) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->unsubacks_.insert(mid);
  c->changed_.notify_all();
}

void plugin_mqtt_client::on_publish(mosquitto*, void* self, int mid) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->pubacks_.insert(mid);
  c->changed_.notify_all();
}

void plugin_mqtt_client::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<plugin_mqtt_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->messages_.push_back({.topic = msg->topic,
                          .payload = std::string(static_cast<const char*>(msg->payload),
                                                 static_cast<std::size_t>(msg->payloadlen)),
                          .qos = msg->qos,
                          .retain = msg->retain});
  c->changed_.notify_all();
}

}  // namespace mockhub::test
