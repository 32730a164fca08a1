#include "door_lock.hpp"

#include <mosquitto.h>

#include <mutex>
#include <stdexcept>
#include <string_view>

namespace mockhub::test {

namespace {

constexpr auto patience = std::chrono::seconds(10);

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

door_lock::door_lock(options o) : options_(std::move(o)) {
  init_library();
  mosq_ = mosquitto_new(options_.device_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("door_lock: mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  const std::string username = options_.host_name + "/" + options_.device_id + "/?api-version=2021-04-12";
  mosquitto_username_pw_set(mosq_, username.c_str(), options_.sas_token.c_str());
  mosquitto_connect_callback_set(mosq_, &door_lock::on_connect);
  mosquitto_subscribe_callback_set(mosq_, &door_lock::on_subscribe);
  mosquitto_message_callback_set(mosq_, &door_lock::on_message);
  if (mosquitto_connect(mosq_, "127.0.0.1", options_.port, 60) != MOSQ_ERR_SUCCESS ||
      mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error("door_lock " + options_.device_id + ": cannot connect");
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, patience, [&] { return connack_ >= 0; }) || connack_ != 0) {
    lock.unlock();
    const int code = connack_;
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
    throw std::runtime_error("door_lock " + options_.device_id + ": CONNACK " + std::to_string(code));
  }
  lock.unlock();
  mosquitto_subscribe(mosq_, nullptr, "$iothub/methods/POST/#", 0);
  mosquitto_subscribe(mosq_, nullptr, "$iothub/twin/PATCH/properties/desired/#", 0);
  lock.lock();
  if (!changed_.wait_for(lock, patience, [&] { return subacks_ >= 2; })) {
    lock.unlock();
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
    throw std::runtime_error("door_lock " + options_.device_id + ": no SUBACK");
  }
}

door_lock::~door_lock() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  mosquitto_destroy(mosq_);
}

std::vector<nlohmann::json> door_lock::lock_requests() {
  std::lock_guard lock(mutex_);
  return lock_requests_;
}

std::vector<nlohmann::json> door_lock::desired_patches() {
  std::lock_guard lock(mutex_);
  return desired_;
}

bool door_lock::wait_lock_requests(std::size_t n) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, patience, [&] { return lock_requests_.size() >= n; });
}

bool door_lock::wait_desired_patches(std::size_t n) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, patience, [&] { return desired_.size() >= n; });
}

void door_lock::on_connect(mosquitto*, void* self, int rc) {
  auto* d = static_cast<door_lock*>(self);
  {
    std::lock_guard lock(d->mutex_);
    d->connack_ = rc;
  }
  d->changed_.notify_all();
}

void door_lock::on_subscribe(mosquitto*, void* self, int, int, const int*) {
  auto* d = static_cast<door_lock*>(self);
  {
    std::lock_guard lock(d->mutex_);
    ++d->subacks_;
  }
  d->changed_.notify_all();
}

void door_lock::on_message(mosquitto* mosq, void* self, const mosquitto_message* msg) {
  auto* d = static_cast<door_lock*>(self);
  const std::string_view topic(msg->topic);
  const std::string payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
  constexpr std::string_view method_prefix = "$iothub/methods/POST/";
  if (topic.starts_with(method_prefix)) {
    // $iothub/methods/POST/{name}/?$rid={rid}
    const auto rest = topic.substr(method_prefix.size());
    const std::string name(rest.substr(0, rest.find('/')));
    const auto rid_at = topic.find("$rid=");
    const std::string rid(rid_at == std::string_view::npos ? std::string_view{} : topic.substr(rid_at + 5));
    std::string answer;
    int status = 404;
    if (name == "lockDoor") {
      {
        std::lock_guard lock(d->mutex_);
        d->lock_requests_.push_back(nlohmann::json::parse(payload.empty() ? "null" : payload, nullptr, false));
      }
      status = d->options_.status;
      answer = d->options_.answer.dump();
      if (d->options_.silent) {
        d->changed_.notify_all();
        return;
      }
    } else {
      answer = R"({"error":"no such method"})";
    }
    const std::string reply = "$iothub/methods/res/" + std::to_string(status) + "/?$rid=" + rid;
    mosquitto_publish(mosq, nullptr, reply.c_str(), static_cast<int>(answer.size()), answer.data(), 0, false);
    d->changed_.notify_all();
  } else if (topic.starts_with("$iothub/twin/PATCH/properties/desired/")) {
    {
      std::lock_guard lock(d->mutex_);
      d->desired_.push_back(nlohmann::json::parse(payload, nullptr, false));
    }
    d->changed_.notify_all();
  }
}

}  // namespace mockhub::test
