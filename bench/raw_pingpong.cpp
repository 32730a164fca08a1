#include "raw_pingpong.hpp"

#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <mockhub/device/event_loop.hpp>

#include "bench_table.hpp"
#include "device/src/socketpair_shim.hpp"
#include "mock_hub/server/broker_launcher.hpp"
#include "mock_hub/server/child_process.hpp"

namespace mockhub::bench {

namespace {

// A responder: one libmosquitto client on the event_loop, driven as the device library drives
// its clients (loop_read/loop_write on readiness; writes queued in callbacks go out next round).
struct responder final : device::event_loop::io_handler {
  device::event_loop& loop;
  std::size_t index;
  mosquitto* mosq = nullptr;
  std::uint64_t watch = 0;
  std::string request_topic, reply_topic;
  std::function<void()> on_ready;

  responder(device::event_loop& l, std::size_t i) : loop(l), index(i) {
    request_topic = "q/" + std::to_string(i);
    reply_topic = "r/" + std::to_string(i);
    const std::string id = "raw-" + std::to_string(i);
    {
      const device::detail::no_socketpair_scope one_descriptor;
      mosq = mosquitto_new(id.c_str(), true, this);
    }
    if (!mosq) throw std::runtime_error("raw_pingpong: mosquitto_new failed");
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(mosq, [](mosquitto* m, void* self, int rc) {
      if (rc == 0) mosquitto_subscribe(m, nullptr, static_cast<responder*>(self)->request_topic.c_str(), 0);
    });
    mosquitto_subscribe_callback_set(mosq, [](mosquitto*, void* self, int, int, const int*) {
      if (auto& f = static_cast<responder*>(self)->on_ready) f();
    });
    mosquitto_message_callback_set(mosq, [](mosquitto* m, void* self, const mosquitto_message* msg) {
      auto* r = static_cast<responder*>(self);
      mosquitto_publish(m, nullptr, r->reply_topic.c_str(), msg->payloadlen, msg->payload, 0, false);
    });
  }
  ~responder() override {
    if (watch) loop.unwatch(watch);
    mosquitto_destroy(mosq);
  }
  void connect(std::uint16_t port) {
    int rc;
    {
      const device::detail::no_socketpair_scope one_descriptor;
      rc = mosquitto_connect_async(mosq, "127.0.0.1", port, 180);
    }
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string("raw_pingpong: connect: ") + mosquitto_strerror(rc));
    watch = loop.watch(mosquitto_socket(mosq), mosquitto_want_write(mosq), *this);
  }
  void on_io(bool readable, bool writable, bool error) override {
    int rc = MOSQ_ERR_SUCCESS;
    if (readable || error) rc = mosquitto_loop_read(mosq, 1);
    if (writable && rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_write(mosq, 1);
    if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(mosq) < 0) {
      loop.unwatch(std::exchange(watch, 0));  // a bench never reconnects: the run reports what is missing
      return;
    }
    loop.set_want_write(watch, mosquitto_want_write(mosq));
  }
};

}  // namespace

// The responders' process: connects them (at most 64 connecting at once, the fleet's ramp) on one
// event_loop, then says `ready` and answers until its parent ends it.
int run_raw_responders(std::uint16_t port, std::size_t count) {
  mosquitto_lib_init();
  device::event_loop loop;
  std::vector<std::unique_ptr<responder>> responders;
  responders.reserve(count);
  for (std::size_t i = 0; i < count; ++i) responders.push_back(std::make_unique<responder>(loop, i));
  std::size_t next = 0, ready = 0;
  std::function<void()> connect_one = [&] {
    if (next >= responders.size()) return;
    responder* r = responders[next++].get();
    r->on_ready = [&, r] {
      if (++ready == responders.size()) {
        mosquitto_publish(r->mosq, nullptr, "ready", 0, nullptr, 0, false);
        return;
      }
      connect_one();
    };
    r->connect(port);
  };
  loop.post([&] {
    for (int i = 0; i < 64; ++i) connect_one();
  });
  loop.run();  // until SIGTERM
  return 0;
}

struct raw_pingpong::impl {
  std::filesystem::path dir;
  std::unique_ptr<server::broker_launcher> broker;
  server::child_process responders;
  std::filesystem::path self;
  std::size_t count = 0;
  std::size_t payload_bytes = 0;

  // The requester (libmosquitto's own thread, as the hub's broker link).
  mosquitto* requester = nullptr;
  std::mutex m;
  std::condition_variable cv;
  bool requester_ready = false, responders_ready = false;
  // The current run (requester thread).
  std::size_t total = 0, sent = 0, answered = 0;
  std::vector<steady::time_point> sent_at;
  std::vector<double> latencies;

  void send_next() {
    const std::size_t seq = sent++;
    std::string payload(std::max<std::size_t>(payload_bytes, sizeof seq), 'x');
    std::memcpy(payload.data(), &seq, sizeof seq);
    const std::string topic = "q/" + std::to_string(seq % count);
    sent_at[seq] = steady::now();
    mosquitto_publish(requester, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 0, false);
  }
  void on_message(const mosquitto_message& msg) {
    std::lock_guard lock(m);
    if (std::strcmp(msg.topic, "ready") == 0) {
      responders_ready = true;
      cv.notify_all();
      return;
    }
    if (static_cast<std::size_t>(msg.payloadlen) < sizeof(std::size_t)) return;
    std::size_t seq;
    std::memcpy(&seq, msg.payload, sizeof seq);
    if (seq >= sent || total == 0) return;
    latencies.push_back(ms_since(sent_at[seq]));
    ++answered;
    if (sent < total) send_next();
    if (answered == total) cv.notify_all();
  }
};

raw_pingpong::raw_pingpong(const std::filesystem::path& self, std::size_t responders, std::size_t payload_bytes, std::chrono::seconds timeout)
    : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.self = self;
  s.count = responders;
  s.payload_bytes = payload_bytes;
  mosquitto_lib_init();
  s.dir = std::filesystem::temp_directory_path() / ("mockhub-bench-raw-" + std::to_string(::getpid()));
  s.broker = std::make_unique<server::broker_launcher>(server::broker_options{.data_dir = s.dir, .listen_ipv6 = false});
  try {
    start(responders, timeout);
  } catch (...) {
    impl_->responders.terminate(std::chrono::seconds(10));
    if (s.requester) {
      mosquitto_loop_stop(s.requester, true);
      mosquitto_destroy(s.requester);
    }
    s.broker->stop();
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
    throw;
  }
}

void raw_pingpong::start(std::size_t responders, std::chrono::seconds timeout) {
  auto& s = *impl_;
  s.broker->start();
  const auto port = s.broker->mqtt_port();

  s.requester = mosquitto_new("raw-requester", true, &s);
  mosquitto_int_option(s.requester, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(s.requester, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(s.requester, [](mosquitto* m, void*, int rc) {
    if (rc != 0) return;
    mosquitto_subscribe(m, nullptr, "r/#", 0);
    mosquitto_subscribe(m, nullptr, "ready", 0);
  });
  mosquitto_subscribe_callback_set(s.requester, [](mosquitto*, void* self, int, int, const int*) {
    auto* st = static_cast<impl*>(self);
    std::lock_guard lock(st->m);
    st->requester_ready = true;
    st->cv.notify_all();
  });
  mosquitto_message_callback_set(s.requester, [](mosquitto*, void* self, const mosquitto_message* msg) { static_cast<impl*>(self)->on_message(*msg); });
  if (mosquitto_connect(s.requester, "127.0.0.1", port, 180) != MOSQ_ERR_SUCCESS) throw std::runtime_error("raw_pingpong: requester cannot connect");
  mosquitto_loop_start(s.requester);
  {
    std::unique_lock lock(s.m);
    if (!s.cv.wait_for(lock, timeout, [&] { return s.requester_ready; })) throw std::runtime_error("raw_pingpong: requester not subscribed in time");
  }
  // The responders live in a child process: a process gets 20,000 descriptors here, and this one
  // already holds the simulated fleet's.
  s.responders = server::child_process::spawn({.program = s.self,
                                               .arguments = {"raw-responders", std::to_string(port), std::to_string(responders)},
                                               .output_file = s.dir / "responders.log",
                                               .min_open_files = responders + 1024});
  std::unique_lock lock(s.m);
  if (!s.cv.wait_for(lock, timeout, [&] { return s.responders_ready; }))
    throw std::runtime_error("raw_pingpong: the " + std::to_string(responders) + " responders did not all connect in time");
}

raw_pingpong::~raw_pingpong() {
  auto& s = *impl_;
  s.responders.terminate(std::chrono::seconds(10));
  mosquitto_disconnect(s.requester);
  mosquitto_loop_stop(s.requester, false);
  mosquitto_destroy(s.requester);
  s.broker->stop();
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
}

raw_run raw_pingpong::run(std::size_t requests, std::size_t window, std::chrono::seconds timeout) {
  auto& s = *impl_;
  raw_run out;
  std::unique_lock lock(s.m);
  s.total = requests;
  s.sent = 0;
  s.answered = 0;
  s.sent_at.assign(requests, {});
  s.latencies.clear();
  s.latencies.reserve(requests);
  const auto t0 = steady::now();
  while (s.sent < std::min(window, requests)) s.send_next();
  s.cv.wait_for(lock, timeout, [&] { return s.answered == s.total; });
  out.total_ms = ms_since(t0);
  out.answered = s.answered;
  out.latencies_ms = std::move(s.latencies);
  s.total = 0;  // late answers are ignored
  return out;
}

int raw_pingpong::broker_pid() const { return impl_->broker->pid(); }
int raw_pingpong::responders_pid() const { return impl_->responders.pid(); }

}  // namespace mockhub::bench
