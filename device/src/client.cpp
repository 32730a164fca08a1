#include "mockhub/device/client.hpp"

#include <mosquitto.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <unordered_map>

#include "mockhub/device/topics.hpp"
#include "socketpair_shim.hpp"

namespace mockhub::device {

using nlohmann::json;

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::timeout: return "timeout";
    case errc::hub_status: return "hub_status";
    case errc::unauthorized: return "unauthorized";
    case errc::retry_expired: return "retry_expired";
    case errc::closed: return "closed";
    case errc::invalid_argument: return "invalid_argument";
  }
  return "?";
}

const char* to_string(connection_status s) noexcept {
  switch (s) {
    case connection_status::disconnected: return "disconnected";
    case connection_status::connecting: return "connecting";
    case connection_status::connected: return "connected";
    case connection_status::disconnected_retrying: return "disconnected_retrying";
  }
  return "?";
}

const char* to_string(connection_reason r) noexcept {
  switch (r) {
    case connection_reason::connection_ok: return "connection_ok";
    case connection_reason::client_close: return "client_close";
    case connection_reason::token_renewal: return "token_renewal";
    case connection_reason::communication_error: return "communication_error";
    case connection_reason::connect_timeout: return "connect_timeout";
    case connection_reason::server_unavailable: return "server_unavailable";
    case connection_reason::refused: return "refused";
    case connection_reason::bad_credential: return "bad_credential";
    case connection_reason::retry_expired: return "retry_expired";
  }
  return "?";
}

namespace detail {
struct method_reply_state {
  std::weak_ptr<client::impl> owner;
  std::string request_id;
  std::uint64_t generation = 0;
  std::atomic<bool> responded{false};
};
}  // namespace detail

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

connection_reason reason_of(failure_kind k) {
  switch (k) {
    case failure_kind::network: return connection_reason::communication_error;
    case failure_kind::connect_timeout: return connection_reason::connect_timeout;
    case failure_kind::server_unavailable: return connection_reason::server_unavailable;
    case failure_kind::refused: return connection_reason::refused;
    case failure_kind::not_authorized: return connection_reason::bad_credential;
  }
  return connection_reason::communication_error;
}

enum subscription : std::uint8_t { sub_twin = 1, sub_methods = 2, sub_desired = 4, sub_c2d = 8 };

}  // namespace

// Everything below runs on the loop's thread, except what is marked thread-safe.
class client::impl final : public event_loop::io_handler, public std::enable_shared_from_this<impl> {
 public:
  struct twin_op {
    enum class kind { get, patch, resync } what = kind::get;
    std::string rid;
    std::string body;
    token<twin> get;
    token<std::int64_t> patch;
    event_loop::timer_id timer = 0;
  };
  impl(event_loop& loop, connection_string cs, client_options options, std::thread::id network_thread)
      : loop_(loop), cs_(std::move(cs)), options_(std::move(options)), network_thread_(network_thread) {
    init_library();
    client_id_ = cs_.client_id();
    if (!options_.retry) {
      // Jitter differs per device, so that a fleet does not reconnect in lockstep.
      exponential_backoff_options backoff;
      backoff.seed ^= std::hash<std::string>{}(client_id_);
      options_.retry = std::make_shared<exponential_backoff>(backoff);
    }
    retry_ = std::make_unique<retry_controller>(*options_.retry, loop_.time());
    username_ = make_username(cs_, options_.client_type);
    host_ = options_.host.empty() ? cs_.connect_host() : options_.host;
    port_ = options_.port ? options_.port : cs_.gateway_port ? *cs_.gateway_port : options_.tls.enabled ? 8883 : 1883;

    {
      const detail::no_socketpair_scope one_descriptor;
      mosq_ = mosquitto_new(client_id_.c_str(), options_.clean_session, this);
    }
    if (!mosq_) throw std::runtime_error("mockhub::device::client: mosquitto_new failed");
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    // Without TCP_NODELAY a QoS 1 request/reply crawls (Nagle + delayed ACK; ARCHITECTURE.md).
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    if (options_.tls.enabled) {
      int rc = MOSQ_ERR_SUCCESS;
      if (!options_.tls.ca_file.empty())
        rc = mosquitto_tls_set(mosq_, options_.tls.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
      if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(mosq_);
        throw std::invalid_argument("mockhub::device::client: cannot use CA file '" + options_.tls.ca_file +
                                    "': " + mosquitto_strerror(rc));
      }
      if (options_.tls.ca_file.empty() || options_.tls.use_system_store) mosquitto_int_option(mosq_, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
      mosquitto_tls_insecure_set(mosq_, !options_.tls.verify_host_name);
    }
    mosquitto_connect_callback_set(mosq_, &impl::on_connect_cb);
    mosquitto_disconnect_callback_set(mosq_, &impl::on_disconnect_cb);
    mosquitto_subscribe_callback_set(mosq_, &impl::on_subscribe_cb);
    mosquitto_publish_callback_set(mosq_, &impl::on_publish_cb);
    mosquitto_message_callback_set(mosq_, &impl::on_message_cb);
  }

  ~impl() override {
    if (mosq_) mosquitto_destroy(mosq_);
  }

  // --- thread-safe ---
  template <class F>
  void run_in_loop(F&& f) {
    if (loop_.in_loop_thread()) f();  // no std::function: answering a method on the loop allocates nothing here
    else loop_.post(std::function<void()>(std::forward<F>(f)));
  }
  std::thread::id network_thread() const { return network_thread_ != std::thread::id{} ? network_thread_ : loop_.loop_thread(); }

  std::atomic<connection_status> status_{connection_status::disconnected};
  std::atomic<std::int64_t> token_expiry_{0};
  struct {
    std::atomic<std::uint64_t> connects{0}, connect_attempts{0}, tokens_generated{0}, methods_received{0},
        desired_received{0}, messages_received{0}, telemetry_sent{0};
  } stats_;

  const connection_string& credentials() const noexcept { return cs_; }
  event_loop& loop_ref() noexcept { return loop_; }

  // --- loop thread ---
  void connect(token<void> t) {
    if (torn_down_) return t.fail(device_error(errc::closed, "client closed"));
    if (phase_ == phase::connected) return t.complete();
    connect_waiters_.push_back(std::move(t));
    if (phase_ == phase::idle) {
      retry_->on_connected();  // a fresh start counts failures from 1
      set_status({connection_status::connecting, connection_reason::connection_ok});
      begin_attempt();
    }
  }

  void close(token<void> t) {
    if (torn_down_) return t.complete();
    close_waiters_.push_back(std::move(t));
    switch (phase_) {
      case phase::idle: finish_close(); return;
      case phase::waiting_retry:
        loop_.cancel(std::exchange(retry_timer_, 0));
        finish_close();
        return;
      case phase::closing: return;
      case phase::connecting:
      case phase::subscribing:
      case phase::connected:
        phase_ = phase::closing;
        cancel_connection_timers();
        mosquitto_disconnect(mosq_);
        pump();
        if (phase_ == phase::closing)
          close_timer_ = loop_.call_after(std::chrono::seconds(2), [this] {
            close_timer_ = 0;
            drop_socket();
            finish_close();
          });
        return;
    }
  }

  // Final: nothing of this impl runs after it (timers cancelled, socket unwatched).
  void teardown() {
    if (torn_down_) return;
    if (phase_ == phase::connected || phase_ == phase::subscribing || phase_ == phase::connecting) {
      mosquitto_disconnect(mosq_);
      if (mosquitto_socket(mosq_) >= 0) mosquitto_loop_write(mosq_, 1);  // best effort: the DISCONNECT
    }
    loop_.cancel(std::exchange(retry_timer_, 0));
    loop_.cancel(std::exchange(close_timer_, 0));
    cancel_connection_timers();
    unwatch();
    phase_ = phase::idle;
    {
      std::lock_guard lock(handlers_mutex_);
      desired_ = nullptr;  // no handler runs during teardown
      connection_handler_ = nullptr;
    }
    fail_all(device_error(errc::closed, "client closed"));
    auto waiters = std::exchange(close_waiters_, {});
    for (auto& w : waiters) w.complete();
    torn_down_ = true;
    status_.store(connection_status::disconnected);
  }

  // Handlers are set from any thread and take effect at once (a request arriving right after
  // on_method() returns finds its handler); the subscriptions they need follow on the loop.
  void set_method(std::string name, method_handler sync, deferred_method_handler deferred) {
    {
      std::lock_guard lock(handlers_mutex_);
      auto entry = std::make_shared<const method_entry>(method_entry{std::move(sync), std::move(deferred)});
      if (name.empty()) default_method_ = std::move(entry);
      else methods_[std::move(name)] = std::move(entry);
      wanted_ |= sub_methods;
    }
    subscribe_later();
  }
  void set_desired(desired_handler h) {
    {
      std::lock_guard lock(handlers_mutex_);
      desired_ = std::move(h);
      wanted_ |= sub_desired | sub_twin;
    }
    subscribe_later();
  }
  void set_c2d(message_handler h) {
    {
      std::lock_guard lock(handlers_mutex_);
      c2d_ = std::move(h);
      wanted_ |= sub_c2d;
    }
    subscribe_later();
  }
  void set_connection_handler(connection_handler h) {
    std::lock_guard lock(handlers_mutex_);
    connection_handler_ = std::move(h);
  }
  void subscribe_later() {
    run_in_loop([self = shared_from_this()] {
      if (!self->torn_down_) self->ensure_subscriptions();
    });
  }

  void send_telemetry(message m, token<void> t) {
    if (torn_down_) return t.fail(device_error(errc::closed, "client closed"));
    const auto id = next_op_++;
    telemetry_op op;
    op.topic = topics::telemetry(cs_.device_id, m);
    op.body = std::move(m.body);
    op.done = std::move(t);
    op.timer = loop_.call_after(options_.operation_timeout, [this, id] { telemetry_timeout(id); });
    telemetry_.emplace(id, std::move(op));
    if (phase_ == phase::connected) publish_telemetry(id);
  }

  void twin_request(twin_op op) {
    if (torn_down_) {
      const device_error e(errc::closed, "client closed");
      if (op.get.valid()) op.get.fail(e);
      if (op.patch.valid()) op.patch.fail(e);
      return;
    }
    op.rid = std::to_string(next_rid_++);
    const auto rid = op.rid;
    op.timer = loop_.call_after(options_.operation_timeout, [this, rid] { twin_timeout(rid); });
    twin_ops_.emplace(rid, std::move(op));
    bool subscribe = false;
    {
      std::lock_guard lock(handlers_mutex_);
      subscribe = !(wanted_ & sub_twin);
      wanted_ |= sub_twin;
    }
    if (subscribe) ensure_subscriptions();
    flush_twin();
  }

  void send_method_response(std::uint64_t generation, const std::string& rid, const method_response& r) {
    // With a persistent session a request can arrive between CONNACK and SUBACK: answer it too.
    if (torn_down_ || (phase_ != phase::connected && phase_ != phase::subscribing) || generation != generation_) return;
    const std::string body = r.payload.is_null() ? std::string{} : r.payload.dump();
    mosquitto_publish(mosq_, nullptr, topics::method_response(r.status, rid).c_str(), static_cast<int>(body.size()),
                      body.data(), 0, false);
    pump();
  }



 private:
  enum class phase { idle, waiting_retry, connecting, subscribing, connected, closing };
  struct method_entry {
    method_handler sync;
    deferred_method_handler deferred;
    explicit operator bool() const { return sync || deferred; }
  };
  struct telemetry_op {
    std::string topic;
    std::string body;
    token<void> done;
    event_loop::timer_id timer = 0;
    int mid = -1;  // -1 while queued
  };

  // libmosquitto holds its callback mutex while calling these, and writing a QoS 0 publish takes
  // it again: nothing may call mosquitto_loop_write inside them (pump() checks in_callback_).
  struct callback_scope {
    impl* self;
    bool previous;
    explicit callback_scope(void* obj) : self(static_cast<impl*>(obj)), previous(self->in_callback_) { self->in_callback_ = true; }
    ~callback_scope() { self->in_callback_ = previous; }
  };
  static void on_connect_cb(mosquitto*, void* obj, int rc) { callback_scope(obj).self->on_connack(rc); }
  static void on_disconnect_cb(mosquitto*, void* obj, int rc) { callback_scope(obj).self->on_disconnect(rc); }
  static void on_subscribe_cb(mosquitto*, void* obj, int mid, int, const int*) { callback_scope(obj).self->on_suback(mid); }
  static void on_publish_cb(mosquitto*, void* obj, int mid) { callback_scope(obj).self->on_puback(mid); }
  static void on_message_cb(mosquitto*, void* obj, const mosquitto_message* m) { callback_scope(obj).self->on_message(*m); }

  void set_status(connection_event e) {
    status_.store(e.status);
    connection_handler h;
    {
      std::lock_guard lock(handlers_mutex_);
      h = connection_handler_;
    }
    if (h) h(e);
  }

  // --- connection lifecycle ---
  void begin_attempt() {
    retry_timer_ = 0;
    phase_ = phase::connecting;
    connack_.reset();
    subscribed_ = pending_mask_ = 0;
    pending_subs_.clear();
    ++stats_.connect_attempts;
    std::string password;
    if (cs_.shared_access_signature) {
      password = *cs_.shared_access_signature;
      token_expiry_.store(sas_token_expiry(password).value_or(0));
    } else {
      token_issued_ = loop_.time().now();
      const auto expiry = token_issued_ + options_.token_lifetime;
      password = make_sas_token(cs_.resource_uri(), *cs_.shared_access_key, expiry, cs_.shared_access_key_name.value_or(""));
      token_expiry_.store(std::chrono::floor<std::chrono::seconds>(expiry.time_since_epoch()).count());
      ++stats_.tokens_generated;
    }
    mosquitto_username_pw_set(mosq_, username_.c_str(), password.c_str());
    unwatch();
    const int keepalive = static_cast<int>(std::max<std::int64_t>(5, options_.keepalive.count()));
    int rc = MOSQ_ERR_SUCCESS;
    {
      const detail::no_socketpair_scope one_descriptor;
      rc = mosquitto_connect_async(mosq_, host_.c_str(), port_, keepalive);
    }
    connect_timer_ = loop_.call_after(options_.connect_timeout, [this] {
      connect_timer_ = 0;
      if (phase_ != phase::connecting && phase_ != phase::subscribing) return;
      drop_socket();
      failed(failure_kind::connect_timeout, "no CONNACK/SUBACK within connect_timeout");
    });
    if (rc != MOSQ_ERR_SUCCESS) {
      const std::string why = rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno)) : mosquitto_strerror(rc);
      drop_socket();
      failed(failure_kind::network, "connect: " + why);
      return;
    }
    watch();
    pump();
  }

  void on_connack(int rc) {
    connack_ = rc;
    if (rc != 0) return;  // libmosquitto closes the connection and reports it through on_disconnect
    if (phase_ != phase::connecting) return;
    phase_ = phase::subscribing;
    ++generation_;  // this connection's: requests arriving from now on are answered on it
    ++stats_.connects;
    ensure_subscriptions();
    if (pending_subs_.empty()) become_connected();
  }

  void ensure_subscriptions() {
    if (phase_ != phase::subscribing && phase_ != phase::connected) return;
    std::uint8_t wanted = 0;
    {
      std::lock_guard lock(handlers_mutex_);
      wanted = wanted_;
    }
    const std::uint8_t missing = static_cast<std::uint8_t>(wanted & ~(subscribed_ | pending_mask_));
    auto sub = [this](std::uint8_t bit, const std::string& filter, int qos) {
      int mid = 0;
      if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) == MOSQ_ERR_SUCCESS) {
        pending_subs_[mid] = bit;
        pending_mask_ |= bit;
      }
    };
    // The order and QoS of the Node SDK's subscriptions (sdk-captures).
    if (missing & sub_methods) sub(sub_methods, std::string(topics::methods_filter), 0);
    if (missing & sub_c2d) sub(sub_c2d, topics::cloud_to_device_filter(cs_.device_id), 1);
    if (missing & sub_twin) sub(sub_twin, std::string(topics::twin_responses_filter), 0);
    if (missing & sub_desired) sub(sub_desired, std::string(topics::desired_filter), 0);
    pump();
  }

  void on_suback(int mid) {
    const auto it = pending_subs_.find(mid);
    if (it == pending_subs_.end()) return;
    const auto bit = it->second;
    pending_subs_.erase(it);
    pending_mask_ = static_cast<std::uint8_t>(pending_mask_ & ~bit);
    subscribed_ |= bit;
    if (bit == sub_desired) start_resync();
    if (phase_ == phase::subscribing && pending_subs_.empty()) become_connected();
    else if (phase_ == phase::connected) flush_twin();
  }

  void become_connected() {
    phase_ = phase::connected;
    loop_.cancel(std::exchange(connect_timer_, 0));
    retry_->on_connected();
    if (!cs_.shared_access_signature) {
      const auto lifetime = std::chrono::duration_cast<clock::duration>(options_.token_lifetime);
      const auto renew_at = token_issued_ + std::chrono::duration_cast<clock::duration>(lifetime * options_.token_renewal);
      renew_timer_ = loop_.call_at(renew_at, [this] { renew_token(); });
    }
    schedule_misc();
    set_status({connection_status::connected, connection_reason::connection_ok});
    auto waiters = std::exchange(connect_waiters_, {});
    for (auto& w : waiters) w.complete();
    if (phase_ != phase::connected) return;  // a handler closed it
    std::vector<std::uint64_t> queued;
    for (const auto& [id, op] : telemetry_) if (op.mid < 0) queued.push_back(id);
    for (const auto id : queued) publish_telemetry(id);
    flush_twin();
  }

  void renew_token() {
    renew_timer_ = 0;
    if (phase_ != phase::connected) return;
    renewing_ = true;
    set_status({connection_status::disconnected_retrying, connection_reason::token_renewal});
    if (phase_ != phase::connected || !renewing_) return;
    mosquitto_disconnect(mosq_);
    pump();
    if (renewing_)  // the DISCONNECT could not be written at once: do not wait for it long
      close_timer_ = loop_.call_after(std::chrono::seconds(2), [this] {
        close_timer_ = 0;
        if (!renewing_) return;
        drop_socket();
        on_disconnect(MOSQ_ERR_SUCCESS);
      });
  }

  void schedule_misc() {
    const auto every = std::max<std::chrono::seconds>(std::chrono::seconds(1), options_.keepalive / 4);
    misc_timer_ = loop_.call_after(every, [this] {
      misc_timer_ = 0;
      if (phase_ != phase::connected) return;
      mosquitto_loop_misc(mosq_);
      if (phase_ != phase::connected) return;
      pump();
      schedule_misc();
    });
  }

  void on_disconnect(int rc) {
    // Called from inside libmosquitto (the socket is already closed): record, and act from a timer.
    unwatch();
    cancel_connection_timers();
    const auto was = phase_;
    if (was == phase::closing) {
      finish_close();
      return;
    }
    if (was == phase::idle || was == phase::waiting_retry) return;
    if (renewing_) {
      renewing_ = false;
      loop_.cancel(std::exchange(close_timer_, 0));
      phase_ = phase::waiting_retry;
      retry_timer_ = loop_.call_after(clock::duration::zero(), [this] { begin_attempt(); });
      return;
    }
    failure_kind kind = failure_kind::network;
    std::string detail = std::string("connection lost: ") + mosquitto_strerror(rc);
    if (connack_ && *connack_ != 0) {
      detail = std::string("CONNACK ") + std::to_string(*connack_) + " (" + mosquitto_connack_string(*connack_) + ")";
      kind = *connack_ == 3 ? failure_kind::server_unavailable
             : (*connack_ == 4 || *connack_ == 5) ? failure_kind::not_authorized
                                                  : failure_kind::refused;
    }
    // Leave libmosquitto's callback before reconnecting.
    phase_ = phase::waiting_retry;
    retry_timer_ = loop_.call_after(clock::duration::zero(), [this, kind, detail] {
      retry_timer_ = 0;
      failed(kind, detail);
    });
  }

  void failed(failure_kind kind, const std::string& detail) {
    loop_.cancel(std::exchange(connect_timer_, 0));
    const auto d = retry_->on_failure(kind);
    if (!d.retry) {
      phase_ = phase::idle;
      const bool auth = kind == failure_kind::not_authorized;
      const auto reason = auth ? connection_reason::bad_credential : connection_reason::retry_expired;
      set_status({connection_status::disconnected, reason, d.attempt, std::chrono::milliseconds{0}, detail});
      const device_error e(auth ? errc::unauthorized : errc::retry_expired,
                           std::string(auth ? "the hub refused the credentials: " : "gave up reconnecting: ") + detail);
      fail_all(e);
      return;
    }
    phase_ = phase::waiting_retry;
    set_status({connection_status::disconnected_retrying, reason_of(kind), d.attempt, d.delay, detail});
    if (phase_ != phase::waiting_retry) return;  // the handler closed or reconnected
    retry_timer_ = loop_.call_at(d.at, [this] { begin_attempt(); });
  }

  void finish_close() {
    loop_.cancel(std::exchange(close_timer_, 0));
    cancel_connection_timers();
    unwatch();
    phase_ = phase::idle;
    fail_all(device_error(errc::closed, "client closed"));
    set_status({connection_status::disconnected, connection_reason::client_close});
    auto waiters = std::exchange(close_waiters_, {});
    for (auto& w : waiters) w.complete();
  }

  void fail_all(const device_error& e) {
    auto waiters = std::exchange(connect_waiters_, {});
    for (auto& w : waiters) w.fail(e);
    auto telemetry = std::exchange(telemetry_, {});
    mid_ops_.clear();
    for (auto& [id, op] : telemetry) {
      loop_.cancel(op.timer);
      op.done.fail(e);
    }
    auto twins = std::exchange(twin_ops_, {});
    for (auto& [rid, op] : twins) {
      loop_.cancel(op.timer);
      if (op.get.valid()) op.get.fail(e);
      if (op.patch.valid()) op.patch.fail(e);
    }
    if (tracker_.resyncing()) deliver_desired(tracker_.abort_resync());
  }

  void cancel_connection_timers() {
    loop_.cancel(std::exchange(connect_timer_, 0));
    loop_.cancel(std::exchange(renew_timer_, 0));
    loop_.cancel(std::exchange(misc_timer_, 0));
  }

  // --- socket ---
  void watch() {
    const int fd = mosquitto_socket(mosq_);
    if (fd < 0) return;
    fd_ = fd;
    watch_ = loop_.watch(fd, mosquitto_want_write(mosq_), *this);
  }
  void unwatch() {
    if (watch_) loop_.unwatch(std::exchange(watch_, 0));
    fd_ = -1;
  }
  // Ends a connection libmosquitto still holds without waiting for it (CONNACK timeout, a close
  // that could not be written): the broker sees EOF now; libmosquitto closes the socket on the
  // next connect or on destruction.
  void drop_socket() {
    const int fd = mosquitto_socket(mosq_);
    unwatch();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  // Flushes what libmosquitto has queued and watches for writability while it cannot.
  void pump() {
    if (!watch_) return;
    if (!in_callback_ && mosquitto_want_write(mosq_) && !tls_handshaking()) {
      mosquitto_loop_write(mosq_, 1);
      if (!check_socket()) return;
    }
    if (watch_) loop_.set_want_write(watch_, mosquitto_want_write(mosq_));
  }

  // Until the CONNACK of a TLS connection the handshake may be in progress, which only
  // mosquitto_loop() advances in 2.0.11 (loop_read/loop_write skip it), so that phase uses it.
  bool tls_handshaking() const { return options_.tls.enabled && phase_ == phase::connecting && !connack_; }

  void on_io(bool readable, bool writable, bool error) override {
    int rc = MOSQ_ERR_SUCCESS;
    if (tls_handshaking() && fd_ >= 0 && fd_ < FD_SETSIZE) {
      rc = mosquitto_loop(mosq_, 0, 1);
    } else {
      if (readable || error) rc = mosquitto_loop_read(mosq_, 1);
      if (watch_ && writable && rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_write(mosq_, 1);
    }
    (void)rc;
    if (!check_socket()) return;
    if (watch_) loop_.set_want_write(watch_, mosquitto_want_write(mosq_));
  }

  // libmosquitto sometimes closes the socket without calling on_disconnect (a failed TLS
  // handshake): notice it here. Returns false when the connection is gone.
  bool check_socket() {
    if (!watch_) return false;
    const int fd = mosquitto_socket(mosq_);
    if (fd >= 0 && fd == fd_) return true;
    if (phase_ == phase::connecting || phase_ == phase::subscribing || phase_ == phase::connected || phase_ == phase::closing)
      on_disconnect(MOSQ_ERR_CONN_LOST);
    else
      unwatch();
    return false;
  }

  // --- operations ---
  void publish_telemetry(std::uint64_t id) {
    auto& op = telemetry_.at(id);
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, op.topic.c_str(), static_cast<int>(op.body.size()), op.body.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) return;  // stays queued; sent on the next connection
    op.mid = mid;
    mid_ops_[mid] = id;
    pump();
  }

  void on_puback(int mid) {
    const auto it = mid_ops_.find(mid);
    if (it == mid_ops_.end()) return;
    const auto id = it->second;
    mid_ops_.erase(it);
    const auto op = telemetry_.find(id);
    if (op == telemetry_.end()) return;
    loop_.cancel(op->second.timer);
    auto done = std::move(op->second.done);
    telemetry_.erase(op);
    ++stats_.telemetry_sent;
    done.complete();
  }

  void telemetry_timeout(std::uint64_t id) {
    const auto it = telemetry_.find(id);
    if (it == telemetry_.end()) return;
    if (it->second.mid >= 0) mid_ops_.erase(it->second.mid);
    auto done = std::move(it->second.done);
    telemetry_.erase(it);
    done.fail(device_error(errc::timeout, "telemetry: no PUBACK within operation_timeout"));
  }

  void flush_twin() {
    if (phase_ != phase::connected || !(subscribed_ & sub_twin)) return;
    for (auto& [rid, op] : twin_ops_) {
      if (sent_.contains(rid) && sent_[rid] == generation_) continue;
      sent_[rid] = generation_;
      const std::string topic = op.what == twin_op::kind::patch ? topics::twin_patch_reported(rid) : topics::twin_get(rid);
      mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(op.body.size()), op.body.data(), 0, false);
    }
    pump();
  }

  void twin_timeout(const std::string& rid) {
    const auto it = twin_ops_.find(rid);
    if (it == twin_ops_.end()) return;
    auto op = std::move(it->second);
    twin_ops_.erase(it);
    sent_.erase(rid);
    const device_error e(errc::timeout, "twin: no response within operation_timeout");
    if (op.what == twin_op::kind::resync) deliver_desired(tracker_.abort_resync());
    if (op.get.valid()) op.get.fail(e);
    if (op.patch.valid()) op.patch.fail(e);
  }

  void start_resync() {
    for (const auto& [rid, op] : twin_ops_)
      if (op.what == twin_op::kind::resync) return;
    tracker_.begin_resync();
    twin_op op;
    op.what = twin_op::kind::resync;
    twin_request(std::move(op));
  }

  void on_twin_response(const topics::twin_response_topic& t, std::string body) {
    const auto it = twin_ops_.find(t.request_id);
    if (it == twin_ops_.end()) return;  // late (timed out) or not ours
    auto op = std::move(it->second);
    twin_ops_.erase(it);
    sent_.erase(t.request_id);
    loop_.cancel(op.timer);
    if (t.status >= 300) {
      const device_error e(errc::hub_status, "twin: the hub answered " + std::to_string(t.status) + ": " + body, t.status, body);
      if (op.what == twin_op::kind::resync) deliver_desired(tracker_.abort_resync());
      if (op.get.valid()) op.get.fail(e);
      if (op.patch.valid()) op.patch.fail(e);
      return;
    }
    if (op.what == twin_op::kind::patch) {
      if (t.version) op.patch.complete(*t.version);
      else op.patch.fail(device_error(errc::hub_status, "twin: the hub's answer names no $version", t.status, body));
      return;
    }
    const json doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) {
      const device_error e(errc::hub_status, "twin: the hub's GET answer is not a JSON object", t.status, body);
      if (op.what == twin_op::kind::resync) deliver_desired(tracker_.abort_resync());
      else op.get.fail(e);
      return;
    }
    twin tw;
    if (doc.contains("desired") && doc["desired"].is_object()) tw.desired = doc["desired"];
    if (doc.contains("reported") && doc["reported"].is_object()) tw.reported = doc["reported"];
    if (op.what == twin_op::kind::resync) deliver_desired(tracker_.on_twin(tw.desired));
    else op.get.complete(std::move(tw));
  }

  void deliver_desired(const std::vector<desired_update>& updates) {
    if (updates.empty()) return;
    desired_handler h;
    {
      std::lock_guard lock(handlers_mutex_);
      h = desired_;
    }
    for (const auto& u : updates) {
      ++stats_.desired_received;
      if (!h) continue;
      try {
        h(u.desired, u.state);
      } catch (...) {
        // A throwing handler must not take the network thread down.
      }
    }
  }

  void on_message(const mosquitto_message& m) {
    const std::string_view topic(m.topic);
    std::string body(static_cast<const char*>(m.payload), static_cast<std::size_t>(std::max(0, m.payloadlen)));
    if (auto r = topics::parse_twin_response(topic)) return on_twin_response(*r, std::move(body));
    if (auto r = topics::parse_method_request(topic)) return on_method_request(std::move(*r), std::move(body));
    if (auto v = topics::parse_desired_patch(topic)) {
      const json patch = json::parse(body, nullptr, false);
      if (!patch.is_object()) return;
      auto r = tracker_.on_patch(patch, *v);
      deliver_desired(r.deliver);
      if (r.resync) {
        twin_op op;
        op.what = twin_op::kind::resync;
        twin_request(std::move(op));
      }
      return;
    }
    if (auto msg = topics::parse_cloud_to_device(topic, cs_.device_id)) {
      ++stats_.messages_received;
      msg->body = std::move(body);
      message_handler h;
      {
        std::lock_guard lock(handlers_mutex_);
        h = c2d_;
      }
      if (h) {
        try {
          h(*msg);
        } catch (...) {
        }
      }
    }
  }

  void on_method_request(topics::method_request_topic t, std::string body) {
    ++stats_.methods_received;
    method_request req;
    req.method_name = std::move(t.method_name);
    req.request_id = std::move(t.request_id);
    if (!body.empty()) {
      req.payload = json::parse(body, nullptr, false);
      if (req.payload.is_discarded()) req.payload = body;
    }
    auto state = std::make_shared<detail::method_reply_state>();
    state->owner = weak_from_this();
    state->request_id = req.request_id;
    state->generation = generation_;
    method_reply reply(state);
    std::shared_ptr<const method_entry> entry;  // shared, not copied: a copy of two std::functions per request
    {
      std::lock_guard lock(handlers_mutex_);
      const auto it = methods_.find(req.method_name);
      entry = it != methods_.end() ? it->second : default_method_;
    }
    if (!entry || !*entry) {
      reply.respond(501, json{{"message", "no handler for method '" + req.method_name + "'"}});
      return;
    }
    try {
      if (entry->sync) reply.respond(entry->sync(req));
      else entry->deferred(req, reply);
    } catch (const std::exception& e) {
      reply.respond(500, json{{"message", e.what()}});
    } catch (...) {
      reply.respond(500, json{{"message", "the method handler failed"}});
    }
  }

  event_loop& loop_;
  connection_string cs_;
  client_options options_;
  std::thread::id network_thread_;
  std::string client_id_, username_, host_;
  int port_ = 0;
  mosquitto* mosq_ = nullptr;
  std::unique_ptr<retry_controller> retry_;

  phase phase_ = phase::idle;
  bool torn_down_ = false;
  bool in_callback_ = false;
  bool renewing_ = false;
  std::optional<int> connack_;
  std::uint64_t generation_ = 0;
  clock::time_point token_issued_{};
  std::uint64_t watch_ = 0;
  int fd_ = -1;
  event_loop::timer_id connect_timer_ = 0, retry_timer_ = 0, renew_timer_ = 0, misc_timer_ = 0, close_timer_ = 0;
  std::vector<token<void>> connect_waiters_, close_waiters_;

  std::mutex handlers_mutex_;  // guards the handlers and wanted_
  std::uint8_t wanted_ = 0, subscribed_ = 0, pending_mask_ = 0;
  std::map<int, std::uint8_t> pending_subs_;

  std::map<std::string, std::shared_ptr<const method_entry>> methods_;
  std::shared_ptr<const method_entry> default_method_;
  desired_handler desired_;
  message_handler c2d_;
  connection_handler connection_handler_;

  std::map<std::uint64_t, telemetry_op> telemetry_;
  std::unordered_map<int, std::uint64_t> mid_ops_;
  std::map<std::string, twin_op> twin_ops_;
  std::unordered_map<std::string, std::uint64_t> sent_;  // rid -> generation it was sent on
  std::uint64_t next_op_ = 1, next_rid_ = 1;
  desired_tracker tracker_;
};

// --- method_reply ---

void method_reply::respond(method_response response) const {
  if (!state_ || state_->responded.exchange(true)) return;
  auto owner = state_->owner.lock();
  if (!owner) return;
  owner->run_in_loop([owner, state = state_, response = std::move(response)] {
    owner->send_method_response(state->generation, state->request_id, response);
  });
}

bool method_reply::responded() const noexcept { return state_ && state_->responded.load(); }

// --- client ---

client::client(connection_string cs, client_options options) : own_loop_(std::make_unique<event_loop>(event_loop_options{options.time})) {
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  thread_ = std::thread([this, &started] {
    started.set_value(std::this_thread::get_id());
    own_loop_->run();
  });
  try {
    impl_ = std::make_shared<impl>(*own_loop_, std::move(cs), std::move(options), id.get());
  } catch (...) {
    own_loop_->stop();
    thread_.join();
    throw;
  }
}

client::client(std::string_view text, client_options options) : client(connection_string::parse(text), std::move(options)) {}

client::client(event_loop& loop, connection_string cs, client_options options) {
  impl_ = std::make_shared<impl>(loop, std::move(cs), std::move(options), std::thread::id{});
}

client::~client() {
  auto& l = loop();
  if (own_loop_) {
    if (l.in_loop_thread()) {
      impl_->teardown();  // destroyed from one of its own handlers: nothing else will run it
    } else {
      std::promise<void> done;
      l.post([this, &done] {
        impl_->teardown();
        done.set_value();
      });
      done.get_future().wait();
    }
    l.stop();
    thread_.join();
    return;
  }
  if (l.in_loop_thread() || l.loop_thread() == std::thread::id{}) {
    impl_->teardown();
  } else {
    std::promise<void> done;
    l.post([this, &done] {
      impl_->teardown();
      done.set_value();
    });
    done.get_future().wait();
  }
}

event_loop& client::loop() noexcept { return own_loop_ ? *own_loop_ : impl_->loop_ref(); }

token<void> client::connect() {
  auto t = token<void>::make(impl_->network_thread());
  impl_->run_in_loop([i = impl_, t] { i->connect(t); });
  return t;
}

token<void> client::close() {
  auto t = token<void>::make(impl_->network_thread());
  impl_->run_in_loop([i = impl_, t] { i->close(t); });
  return t;
}

connection_status client::status() const noexcept { return impl_->status_.load(); }
const connection_string& client::credentials() const noexcept { return impl_->credentials(); }
const std::string& client::device_id() const noexcept { return impl_->credentials().device_id; }
std::int64_t client::token_expiry() const noexcept { return impl_->token_expiry_.load(); }

client_stats client::stats() const noexcept {
  const auto& s = impl_->stats_;
  return {s.connects.load(),        s.connect_attempts.load(),  s.tokens_generated.load(), s.methods_received.load(),
          s.desired_received.load(), s.messages_received.load(), s.telemetry_sent.load()};
}

void client::on_method(std::string name, method_handler handler) {
  if (name.empty()) throw std::invalid_argument("client::on_method: empty method name (use on_default_method)");
  impl_->set_method(std::move(name), std::move(handler), {});
}
void client::on_method_deferred(std::string name, deferred_method_handler handler) {
  if (name.empty()) throw std::invalid_argument("client::on_method_deferred: empty method name (use on_default_method_deferred)");
  impl_->set_method(std::move(name), {}, std::move(handler));
}
void client::on_default_method(method_handler handler) {
  impl_->set_method({}, std::move(handler), {});
}
void client::on_default_method_deferred(deferred_method_handler handler) {
  impl_->set_method({}, {}, std::move(handler));
}
void client::on_desired_properties(desired_handler handler) {
  impl_->set_desired(std::move(handler));
}
void client::on_cloud_to_device(message_handler handler) {
  impl_->set_c2d(std::move(handler));
}
void client::on_connection_status(connection_handler handler) {
  impl_->set_connection_handler(std::move(handler));
}

token<void> client::send_telemetry(message m) {
  auto t = token<void>::make(impl_->network_thread());
  impl_->run_in_loop([i = impl_, m = std::move(m), t]() mutable { i->send_telemetry(std::move(m), t); });
  return t;
}

token<twin> client::get_twin() {
  auto t = token<twin>::make(impl_->network_thread());
  impl::twin_op op;
  op.what = impl::twin_op::kind::get;
  op.get = t;
  impl_->run_in_loop([i = impl_, op = std::move(op)]() mutable { i->twin_request(std::move(op)); });
  return t;
}

token<std::int64_t> client::update_reported(json patch) {
  auto t = token<std::int64_t>::make(impl_->network_thread());
  if (!patch.is_object()) {
    t.fail(device_error(errc::invalid_argument, "update_reported: the patch must be a JSON object"));
    return t;
  }
  impl::twin_op op;
  op.what = impl::twin_op::kind::patch;
  op.body = patch.dump();
  op.patch = t;
  impl_->run_in_loop([i = impl_, op = std::move(op)]() mutable { i->twin_request(std::move(op)); });
  return t;
}

}  // namespace mockhub::device
