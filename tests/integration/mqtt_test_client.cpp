#include "mqtt_test_client.hpp"

#include <mosquitto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace mockhub::test {
namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

mqtt_test_client::mqtt_test_client(const std::string& client_id) {
  init_library();
  mosq_ = mosquitto_new(client_id.c_str(), true, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq_, &on_connect);
  mosquitto_disconnect_callback_set(mosq_, &on_disconnect);
  mosquitto_subscribe_callback_set(mosq_, &on_subscribe);
  mosquitto_publish_callback_set(mosq_, &on_publish);
  mosquitto_message_callback_set(mosq_, &on_message);
}

mqtt_test_client::~mqtt_test_client() {
  if (loop_started_) {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
  }
  mosquitto_destroy(mosq_);
}

void mqtt_test_client::use_tls(const std::string& cafile) {
  if (mosquitto_tls_set(mosq_, cafile.c_str(), nullptr, nullptr, nullptr, nullptr) != MOSQ_ERR_SUCCESS ||
      mosquitto_tls_opts_set(mosq_, SSL_VERIFY_PEER, "tlsv1.2", nullptr) != MOSQ_ERR_SUCCESS ||
      mosquitto_tls_insecure_set(mosq_, false) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("mosquitto TLS settings refused");
  }
}

int mqtt_test_client::connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  // The TCP connection and TLS handshake (with certificate checks) happen in here.
  const int rc = mosquitto_connect(mosq_, host.c_str(), port, 60);
  if (rc != MOSQ_ERR_SUCCESS) return -rc;
  if (mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) throw std::runtime_error("mosquitto_loop_start failed");
  loop_started_ = true;
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return connack_ || disconnect_; })) {
    throw std::runtime_error("no CONNACK from " + host + ":" + std::to_string(port));
  }
  if (connack_) return *connack_;
  const int lost = *disconnect_;
  lock.unlock();
  // Stop the loop's reconnect attempts: this client is done.
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  loop_started_ = false;
  return lost == 0 ? -MOSQ_ERR_CONN_LOST : -lost;
}

bool mqtt_test_client::subscribe(const std::string& filter, int qos, std::chrono::milliseconds timeout) {
  // Acknowledgements are kept by message id, so one that arrives before we wait is not lost;
  // our mutex is never held across a libmosquitto call (its callbacks take it).
  int mid = 0;
  if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) return false;
  std::unique_lock lock(mutex_);
  const auto found = [&] {
    return std::find_if(subacks_.begin(), subacks_.end(), [&](const auto& s) { return s.first == mid; });
  };
  if (!changed_.wait_for(lock, timeout, [&] { return found() != subacks_.end(); })) return false;
  return found()->second;
}

bool mqtt_test_client::publish(const std::string& topic, const std::string& payload, int qos,
                               std::chrono::milliseconds timeout) {
  int mid = 0;
  if (mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, false) !=
      MOSQ_ERR_SUCCESS) {
    return false;
  }
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return std::find(pubacks_.begin(), pubacks_.end(), mid) != pubacks_.end(); });
}

std::optional<mqtt_test_client::message> mqtt_test_client::next_message(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !messages_.empty(); })) return std::nullopt;
  message m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

void mqtt_test_client::on_connect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<mqtt_test_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->connack_ = rc;
  c->changed_.notify_all();
}

void mqtt_test_client::on_disconnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<mqtt_test_client*>(self);
  std::lock_guard lock(c->mutex_);
  if (!c->disconnect_) c->disconnect_ = rc;
  c->changed_.notify_all();
}

void mqtt_test_client::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto* c = static_cast<mqtt_test_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->subacks_.emplace_back(mid, count > 0 && granted[0] <= 2);
  c->changed_.notify_all();
}

void mqtt_test_client::on_publish(mosquitto*, void* self, int mid) {
  auto* c = static_cast<mqtt_test_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->pubacks_.push_back(mid);
  c->changed_.notify_all();
}

void mqtt_test_client::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<mqtt_test_client*>(self);
  std::lock_guard lock(c->mutex_);
  c->messages_.push_back({.topic = msg->topic,
                          .payload = std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)),
                          .qos = msg->qos});
  c->changed_.notify_all();
}

}  // namespace mockhub::test
