#include "mockhub/device/fleet/simulator.hpp"

#include <algorithm>
#include <numeric>

namespace mockhub::device::fleet {

using nlohmann::json;
using std::chrono::milliseconds;

latency_summary summarize(std::vector<double> v) {
  latency_summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&v](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  s.count = v.size();
  s.min_ms = v.front();
  s.max_ms = v.back();
  s.p50_ms = at(0.50);
  s.p95_ms = at(0.95);
  s.p99_ms = at(0.99);
  s.mean_ms = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return s;
}

json to_json(const latency_summary& s) {
  return {{"count", s.count}, {"min_ms", s.min_ms}, {"p50_ms", s.p50_ms}, {"p95_ms", s.p95_ms},
          {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

namespace {

double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The reported form of a desired update: its values without the twin's own members.
json echo_of(const json& desired) {
  json out = json::object();
  for (const auto& [k, v] : desired.items())
    if (!k.starts_with("$")) out[k] = v;
  return out;
}

}  // namespace

json fleet_report::to_json() const {
  return {{"devices", devices},
          {"connected_now", connected_now},
          {"peak_connected", peak_connected},
          {"connects", connects},
          {"connect_attempts", connect_attempts},
          {"terminal_failures", terminal_failures},
          {"churn_disconnects", churn_disconnects},
          {"methods", {{"received", methods_received}, {"answered", methods_answered}, {"failed_on_purpose", methods_failed_on_purpose}, {"ignored", methods_ignored}}},
          {"reported", {{"sent", reported_sent}, {"acked", reported_acked}, {"failed", reported_failed}}},
          {"desired", {{"received", desired_received}, {"echoed", desired_echoed}}},
          {"telemetry", {{"sent", telemetry_sent}, {"acked", telemetry_acked}}},
          {"latency", {{"first_connect", fleet::to_json(first_connect)},
                       {"reported_roundtrip", fleet::to_json(reported_roundtrip)},
                       {"method_answer_delay", fleet::to_json(method_latency)}}}};
}

struct fleet_simulator::counters {
  std::size_t connected_now = 0, peak = 0;
  std::uint64_t terminal = 0, churn = 0, methods_received = 0, methods_answered = 0, methods_failed = 0, methods_ignored = 0;
  std::uint64_t reported_sent = 0, reported_acked = 0, reported_failed = 0, desired_received = 0, desired_echoed = 0;
  std::uint64_t telemetry_sent = 0, telemetry_acked = 0;
  std::vector<double> first_connect, reported_rtt, method_delay;
};

struct fleet_simulator::sim_device {
  std::size_t index = 0;
  const device_spec* spec = nullptr;
  const behaviour* b = nullptr;
  std::unique_ptr<client> c;
  std::mt19937_64 random;
  bool connected = false, ever_connected = false, counted_connecting = false;
  std::uint64_t reported_counter = 0;
  event_loop::timer_id reported_timer = 0, telemetry_timer = 0, churn_timer = 0;
};

fleet_simulator::fleet_simulator(event_loop& loop, fleet_fixture fixture, fleet_options options)
    : loop_(loop), fixture_(std::move(fixture)), options_(std::move(options)), counters_(std::make_unique<counters>()) {}

fleet_simulator::~fleet_simulator() {
  for (auto& d : devices_) {
    if (!d) continue;
    loop_.cancel(d->reported_timer);
    loop_.cancel(d->telemetry_timer);
    loop_.cancel(d->churn_timer);
  }
  devices_.clear();  // each client tears down (on the loop's thread or while the loop is idle)
}

void fleet_simulator::on_event(std::function<void(const fleet_event&)> observer) { observer_ = std::move(observer); }

void fleet_simulator::emit(fleet_event::kind k, std::size_t device, std::string detail) {
  if (observer_) observer_(fleet_event{k, device, std::move(detail)});
}

client* fleet_simulator::device(std::size_t index) { return index < devices_.size() && devices_[index] ? devices_[index]->c.get() : nullptr; }

std::size_t fleet_simulator::connected() const noexcept { return counters_->connected_now; }

void fleet_simulator::start() {
  started_ = loop_.time().now();
  devices_.resize(fixture_.devices.size());
  for (std::size_t i = 0; i < fixture_.devices.size(); ++i) {
    const auto& spec = fixture_.devices[i];
    std::optional<std::string> key = spec.key;
    if (!key && options_.key_for) key = options_.key_for(spec);
    if (!key) continue;
    auto d = std::make_unique<sim_device>();
    d->index = i;
    d->spec = &spec;
    d->b = fixture_.behaviour_of(spec);
    // One generator per device, from the fixture seed and the device's index (SplitMix-style mix),
    // so that its draws do not depend on how devices interleave.
    std::seed_seq seq{static_cast<std::uint32_t>(fixture_.seed), static_cast<std::uint32_t>(fixture_.seed >> 32),
                      static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i >> 32)};
    d->random.seed(seq);

    connection_string cs;
    cs.host_name = options_.host_name;
    cs.device_id = spec.id;
    cs.shared_access_key = *key;
    cs.shared_access_key_name = options_.key_name;
    client_options o;
    o.tls = options_.tls;
    o.host = options_.connect_host;
    o.port = options_.port;
    o.keepalive = options_.keepalive;
    o.connect_timeout = options_.connect_timeout;
    o.operation_timeout = options_.operation_timeout;
    auto backoff = options_.backoff;
    backoff.seed = fixture_.seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));
    o.retry = std::make_shared<exponential_backoff>(backoff);
    d->c = std::make_unique<client>(loop_, cs, o);

    sim_device* dp = d.get();
    d->c->on_connection_status([this, dp](const connection_event& e) {
      auto& k = *counters_;
      if (e.status == connection_status::connected) {
        if (!dp->connected) {
          dp->connected = true;
          ++k.connected_now;
          k.peak = std::max(k.peak, k.connected_now);
        }
        if (!dp->ever_connected) {
          dp->ever_connected = true;
          k.first_connect.push_back(ms_between(started_, loop_.time().now()));
        }
        if (dp->counted_connecting) {
          dp->counted_connecting = false;
          --connecting_;
          connect_next();
        }
        schedule_reported(*dp);
        schedule_telemetry(*dp);
        schedule_churn(*dp);
        emit(fleet_event::kind::connected, dp->index);
        return;
      }
      if (dp->connected) {
        dp->connected = false;
        --k.connected_now;
        emit(fleet_event::kind::disconnected, dp->index, to_string(e.reason));
      }
      if (e.status == connection_status::disconnected && e.reason != connection_reason::client_close) {
        ++k.terminal;
        if (dp->counted_connecting) {
          dp->counted_connecting = false;
          --connecting_;
          connect_next();
        }
      }
    });

    if (d->b) {
      const behaviour* b = d->b;
      if (!b->methods.empty()) {
        d->c->on_default_method_deferred([this, dp, b](const method_request& r, method_reply reply) {
          ++counters_->methods_received;
          auto it = b->methods.find(r.method_name);
          if (it == b->methods.end()) it = b->methods.find("*");
          if (it == b->methods.end()) {
            reply.respond(501, json{{"message", "no behaviour for method '" + r.method_name + "'"}});
            ++counters_->methods_answered;
            emit(fleet_event::kind::method_answered, dp->index, r.method_name);
            return;
          }
          auto decision = decide(it->second, r.payload, dp->random);
          if (!decision.answer) {
            ++counters_->methods_ignored;
            emit(fleet_event::kind::method_ignored, dp->index, r.method_name);
            return;
          }
          if (decision.failed) ++counters_->methods_failed;
          counters_->method_delay.push_back(static_cast<double>(decision.latency.count()));
          const auto* reports = &it->second.reports;
          auto answer = [this, dp, reports](const method_reply& to, method_decision& d, const std::string& name) {
            // Reported before the answer: on one connection the hub sees them in order, so a back
            // end that reads the twin once the method returned sees the new state.
            if (!d.failed && !reports->empty()) report(*dp, *reports, "method_reports");
            to.respond(d.status, std::move(d.payload));
            ++counters_->methods_answered;
            emit(fleet_event::kind::method_answered, dp->index, name);
          };
          if (decision.latency.count() == 0) {
            answer(reply, decision, r.method_name);  // at once: nothing copied
          } else {
            const auto latency = decision.latency;
            loop_.call_after(latency, [answer, reply, decision = std::move(decision), name = r.method_name]() mutable {
              answer(reply, decision, name);
            });
          }
        });
      }
      if (b->desired_echo) {
        d->c->on_desired_properties([this, dp](const json& desired, twin_update_state) {
          ++counters_->desired_received;
          emit(fleet_event::kind::desired_received, dp->index);
          auto echo = echo_of(desired);
          if (echo.empty()) return;
          ++counters_->desired_echoed;
          report(*dp, std::move(echo), "desired_echo");
        });
      }
    }
    devices_[i] = std::move(d);
    to_connect_.push_back(i);
  }
  connect_next();
}

void fleet_simulator::connect_next() {
  while (!stopped_ && connecting_ < options_.max_connecting && next_to_connect_ < to_connect_.size()) {
    connect_device(to_connect_[next_to_connect_++]);
  }
}

void fleet_simulator::connect_device(std::size_t index) {
  auto& d = *devices_[index];
  d.counted_connecting = true;
  ++connecting_;
  d.c->connect();
}

void fleet_simulator::schedule_reported(sim_device& d) {
  if (!d.b || !d.b->reported_updates || d.reported_timer) return;
  const auto delay = d.b->reported_updates->every.sample(d.random);
  d.reported_timer = loop_.call_after(delay, [this, dp = &d] {
    dp->reported_timer = 0;
    if (!dp->connected || stopped_) return;
    const auto& r = *dp->b->reported_updates;
    json patch = r.patch;
    if (r.counter_property) patch[*r.counter_property] = ++dp->reported_counter;
    report(*dp, std::move(patch), "reported_updates");
    schedule_reported(*dp);
  });
}

void fleet_simulator::report(sim_device& d, json patch, const char* source) {
  ++counters_->reported_sent;
  const auto sent_at = loop_.time().now();
  d.c->update_reported(std::move(patch)).on_complete([this, dp = &d, sent_at, source](const token<std::int64_t>& t) {
    if (t.ok()) {
      ++counters_->reported_acked;
      counters_->reported_rtt.push_back(ms_between(sent_at, loop_.time().now()));
      emit(fleet_event::kind::reported_acked, dp->index, source);
    } else {
      ++counters_->reported_failed;
      emit(fleet_event::kind::reported_failed, dp->index, source);
    }
  });
}

void fleet_simulator::schedule_telemetry(sim_device& d) {
  if (!d.b || !d.b->telemetry || d.telemetry_timer) return;
  const auto delay = d.b->telemetry->every.sample(d.random);
  d.telemetry_timer = loop_.call_after(delay, [this, dp = &d] {
    dp->telemetry_timer = 0;
    if (!dp->connected || stopped_) return;
    const auto& body = dp->b->telemetry->body;
    message m;
    m.body = body.is_string() ? body.get<std::string>() : body.dump();
    if (!body.is_string()) {
      m.content_type = "application/json";
      m.content_encoding = "utf-8";
    }
    ++counters_->telemetry_sent;
    dp->c->send_telemetry(std::move(m)).on_complete([this, dp](const token<void>& t) {
      if (!t.ok()) return;
      ++counters_->telemetry_acked;
      emit(fleet_event::kind::telemetry_acked, dp->index);
    });
    schedule_telemetry(*dp);
  });
}

void fleet_simulator::schedule_churn(sim_device& d) {
  if (!d.b || !d.b->churn || d.churn_timer) return;
  const auto up = d.b->churn->connected_for.sample(d.random);
  d.churn_timer = loop_.call_after(up, [this, dp = &d] {
    dp->churn_timer = 0;
    if (stopped_) return;
    ++counters_->churn;
    loop_.cancel(std::exchange(dp->reported_timer, 0));
    loop_.cancel(std::exchange(dp->telemetry_timer, 0));
    dp->c->close();
    const auto down = dp->b->churn->offline_for.sample(dp->random);
    dp->churn_timer = loop_.call_after(down, [this, dp] {
      dp->churn_timer = 0;
      if (!stopped_) dp->c->connect();
    });
  });
}

void fleet_simulator::stop() {
  stopped_ = true;
  for (auto& d : devices_) {
    if (!d) continue;
    loop_.cancel(std::exchange(d->reported_timer, 0));
    loop_.cancel(std::exchange(d->telemetry_timer, 0));
    loop_.cancel(std::exchange(d->churn_timer, 0));
    d->c->close();
  }
}

fleet_report fleet_simulator::report() const {
  fleet_report r;
  const auto& k = *counters_;
  r.devices = fixture_.devices.size();
  r.connected_now = k.connected_now;
  r.peak_connected = k.peak;
  r.terminal_failures = k.terminal;
  r.churn_disconnects = k.churn;
  for (const auto& d : devices_) {
    if (!d) continue;
    const auto s = d->c->stats();
    r.connects += s.connects;
    r.connect_attempts += s.connect_attempts;
  }
  r.methods_received = k.methods_received;
  r.methods_answered = k.methods_answered;
  r.methods_failed_on_purpose = k.methods_failed;
  r.methods_ignored = k.methods_ignored;
  r.reported_sent = k.reported_sent;
  r.reported_acked = k.reported_acked;
  r.reported_failed = k.reported_failed;
  r.desired_received = k.desired_received;
  r.desired_echoed = k.desired_echoed;
  r.telemetry_sent = k.telemetry_sent;
  r.telemetry_acked = k.telemetry_acked;
  r.first_connect = summarize(k.first_connect);
  r.reported_roundtrip = summarize(k.reported_rtt);
  r.method_latency = summarize(k.method_delay);
  return r;
}

}  // namespace mockhub::device::fleet
