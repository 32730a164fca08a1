#include "hub.hpp"

#include <optional>
#include <string>
#include <utility>

#include "errors.hpp"

namespace mockhub::core {

// The registry's twins as a query collection, keyed by device id.
class hub::twin_source final : public query::document_source {
 public:
  explicit twin_source(const device_registry& registry) : registry_(registry) {}
  void scan(std::string_view after_key, const visitor& visit) const override { registry_.scan_twins(after_key, visit); }

 private:
  const device_registry& registry_;
};

hub::hub(hub_options options, clock& clk, id_source& ids, device_channel& channel)
    : hub(std::move(options), clk, ids, channel, *std::make_unique<memory_store>().release()) {
  owned_store_.reset(&store_);
}

hub::hub(hub_options options, clock& clk, id_source& ids, device_channel& channel, hub_store& store)
    : options_(std::move(options)),
      clock_(clk),
      ids_(ids),
      channel_(channel),
      store_(store),
      registry_(clk, ids, &store_),
      policies_(ids),
      telemetry_(options_.telemetry_per_device),
      cloud_to_device_(&store_),
      methods_(clk, sessions_, channel),
      twins_(std::make_unique<twin_source>(registry_)),
      jobs_(options_.jobs, clk, *this, &store_) {
  load();
  policies_.on_change([this] { store_.put_policies(policies_.list()); });
}

void hub::load() {
  stored_state state = store_.load();
  // Request ids of earlier runs are never reused (a late answer must match nothing).
  if (state.boot > 0) methods_.set_next_request_id(state.boot * 1'000'000'000ULL + 1);
  for (auto& d : state.devices) registry_.restore(std::move(d));
  if (state.policies) policies_.restore(std::move(*state.policies));
  std::vector<std::string> waiting;
  for (auto& m : state.cloud_to_device) {
    if (waiting.empty() || waiting.back() != m.device_id) waiting.push_back(m.device_id);
    cloud_to_device_.restore(std::move(m));
  }
  hub_store::batch b(&store_);
  for (const auto& id : waiting) refresh_cloud_to_device_count(id);
  jobs_.restore(std::move(state.jobs), std::move(state.job_devices));
}

const query::document_source& hub::source_of(const query::compiled_query& q) const {
  switch (q.collection()) {
    case query::ast::collection::jobs: return jobs_.device_job_records();
    case query::ast::collection::modules: {
      // Module identities are not supported: the collection exists and is empty.
      static const query::map_document_source::map_type none;
      static const query::map_document_source empty(none);
      return empty;
    }
    case query::ast::collection::devices: break;
  }
  return *twins_;
}

query::query_page hub::query(std::string_view text, const query::page_request& page) const {
  const auto q = query::compile_query(text);
  return q.run(source_of(q), page);
}

query::query_page_text hub::query_text(std::string_view text, const query::page_request& page) const {
  const auto q = query::compile_query(text);
  return q.run_text(source_of(q), page);
}

void hub::update_twin_for_job(std::string_view device_id, const nlohmann::json& patch) {
  update_twin(device_id, patch, "*");
}

void hub::invoke_method_for_job(std::string_view device_id, std::shared_ptr<const prepared_method_request> request,
                                method_callback done) {
  if (!registry_.find(device_id)) throw errors::device_not_found(device_id);
  methods_.invoke(device_id, std::move(request), std::move(done));
}

const device_identity& hub::create_or_update_identity(std::string_view device_id, const device_identity_request& request,
                                                      std::optional<std::string_view> if_match) {
  std::optional<std::pair<std::string, std::string>> keys_before;
  if (const device_identity* before = registry_.find(device_id)) keys_before.emplace(before->primary_key, before->secondary_key);
  const device_identity& d = registry_.create_or_update_identity(device_id, request, if_match);
  announce_identity(device_id, d);
  // Disabling a device or changing either of its keys (a key roll, e.g. after a leak) ends its
  // connection: a token signed with the old key must not keep working until it expires.
  const bool keys_changed = keys_before && *keys_before != std::pair(d.primary_key, d.secondary_key);
  if ((d.status == device_status::disabled || keys_changed) && sessions_.is_connected(device_id)) channel_.disconnect(device_id);
  return d;
}

void hub::delete_identity(std::string_view device_id, std::optional<std::string_view> if_match) {
  hub_store::batch b(&store_);
  registry_.delete_identity(device_id, if_match);
  const bool was_connected = sessions_.is_connected(device_id);
  sessions_.forget(device_id);
  telemetry_.forget(device_id);
  cloud_to_device_.purge(device_id);
  if (const auto t = expiry_timers_.find(std::string(device_id)); t != expiry_timers_.end()) {
    clock_.cancel(t->second);
    expiry_timers_.erase(t);
  }
  methods_.device_deleted(device_id);
  cancel_fault(device_id);
  channel_.identity_changed(device_id, nullptr);
  if (was_connected) channel_.disconnect(device_id);
}

void hub::reset() {
  hub_store::batch b(&store_);
  std::vector<std::string> ids;
  registry_.for_each_identity([&](const device_identity& d) { ids.push_back(d.device_id); });
  // Devices first: their pending method calls end while the jobs that wait on them still exist.
  for (const auto& id : ids) delete_identity(id, std::nullopt);
  jobs_.clear();
}

void hub::disconnect_device(std::string_view device_id) {
  if (!registry_.find(device_id)) throw errors::device_not_found(device_id);
  // Always sent: the broker may have admitted the device before the hub heard of it, and
  // ending a connection that does not exist does nothing.
  channel_.disconnect(device_id);
}

void hub::invoke_device_method(std::string_view device_id, method_request request, method_callback done) {
  if (!registry_.find(device_id)) throw errors::device_not_found(device_id);
  methods_.invoke(device_id, std::move(request), std::move(done));
}

bool hub::device_method_response(std::string_view device_id, std::string_view request_id, int status,
                                 std::string_view payload) {
  registry_.record_activity(device_id);
  return methods_.device_responded(device_id, request_id, status, payload);
}

void hub::push_desired(std::string_view device_id, const std::optional<nlohmann::json>& notification) {
  if (notification && sessions_.is_subscribed(device_id, device_subscription::desired_patches))
    channel_.send_desired_patch(device_id, *notification);
}

twin_write hub::update_twin(std::string_view device_id, const nlohmann::json& patch,
                            std::optional<std::string_view> if_match) {
  auto write = registry_.update_twin(device_id, patch, if_match);
  push_desired(device_id, write.desired_notification);
  return write;
}

twin_write hub::replace_twin(std::string_view device_id, const nlohmann::json& replacement,
                             std::optional<std::string_view> if_match) {
  auto write = registry_.replace_twin(device_id, replacement, if_match);
  push_desired(device_id, write.desired_notification);
  return write;
}

std::string hub::send_cloud_to_device_message(std::string_view device_id, cloud_to_device_message message) {
  if (!registry_.find(device_id)) throw errors::device_not_found(device_id);
  if (message.body.size() > max_cloud_to_device_bytes)
    throw errors::message_too_large("The cloud-to-device message is " + std::to_string(message.body.size()) +
                                    " bytes; at most 65536 are allowed.");
  const time_point now = clock_.now();
  if (!message.expiry) message.expiry = now + options_.cloud_to_device_ttl;
  if (!message.message_id) message.message_id = ids_.hex_id();
  message.to = "/devices/" + std::string(device_id) + "/messages/devicebound";
  std::string id = *message.message_id;
  hub_store::batch b(&store_);
  cloud_to_device_.enqueue(device_id, std::move(message), now);
  deliver_cloud_to_device(device_id);
  refresh_cloud_to_device_count(device_id);
  return id;
}

std::size_t hub::purge_cloud_to_device_message_queue(std::string_view device_id) {
  if (!registry_.find(device_id)) throw errors::device_not_found(device_id);
  hub_store::batch b(&store_);
  const std::size_t n = cloud_to_device_.purge(device_id);
  refresh_cloud_to_device_count(device_id);
  return n;
}

void hub::deliver_cloud_to_device(std::string_view device_id) {
  if (!sessions_.is_subscribed(device_id, device_subscription::cloud_to_device)) return;
  // The messages leave the store in the batch that sends them: at least once across a restart.
  hub_store::batch b(&store_);
  for (const auto& m : cloud_to_device_.take(device_id, clock_.now())) channel_.send_cloud_to_device(device_id, m);
}

void hub::refresh_cloud_to_device_count(std::string_view device_id) {
  if (registry_.find(device_id))
    registry_.set_cloud_to_device_message_count(device_id,
                                                static_cast<std::int32_t>(cloud_to_device_.depth(device_id, clock_.now())));
}

void hub::device_connected(std::string_view device_id, const connection_info& info) {
  if (!registry_.find(device_id)) return;
  // A takeover (or a connection the hub never heard end): requests sent on the old connection
  // cannot be answered any more.
  const auto* previous = sessions_.find(device_id);
  const bool replaces = previous && previous->connected && previous->connection.generation != info.generation;
  if (!sessions_.connect(device_id, info)) return;
  if (replaces) methods_.device_gone(device_id);
  registry_.set_connection_state(device_id, connection_state::connected);
  const std::string id(device_id);
  if (const auto t = expiry_timers_.find(id); t != expiry_timers_.end()) {
    clock_.cancel(t->second);
    expiry_timers_.erase(t);
  }
  if (info.token_expiry) {
    const auto generation = info.generation;
    expiry_timers_[id] = clock_.call_at(*info.token_expiry, [this, id, generation] {
      expiry_timers_.erase(id);
      const auto* s = sessions_.find(id);
      if (s && s->connected && s->connection.generation == generation) channel_.disconnect(id);
    });
  }
  deliver_cloud_to_device(device_id);
  refresh_cloud_to_device_count(device_id);
}

void hub::device_disconnected(std::string_view device_id, std::uint64_t generation) {
  if (!sessions_.disconnect(device_id, generation)) return;
  if (registry_.find(device_id)) registry_.set_connection_state(device_id, connection_state::disconnected);
  methods_.device_gone(device_id);
}

void hub::device_subscribed(std::string_view device_id, std::uint64_t generation, device_subscription s) {
  if (!sessions_.subscribe(device_id, generation, s)) return;
  if (s == device_subscription::cloud_to_device) {
    deliver_cloud_to_device(device_id);
    refresh_cloud_to_device_count(device_id);
  }
  if (s == device_subscription::methods) methods_.device_ready(device_id);
}

void hub::device_unsubscribed(std::string_view device_id, std::uint64_t generation, device_subscription s) {
  sessions_.unsubscribe(device_id, generation, s);
}

void hub::connections_resynced(const std::vector<std::pair<std::string, device_session>>& live) {
  const auto before = sessions_.connected_devices();
  std::unordered_map<std::string, std::uint64_t> generation_before;
  for (const auto& id : before) generation_before[id] = sessions_.find(id)->connection.generation;
  sessions_.reconcile(live);
  for (const auto& id : before) {
    const auto* now = sessions_.find(id);
    if (now && now->connected) {
      // Connected again, on another connection (the broker restarted): what was sent on the old
      // one is lost, so its method calls fail now as they would had the hub seen the drop.
      if (now->connection.generation != generation_before[id]) methods_.device_gone(id);
      continue;
    }
    if (registry_.find(id)) registry_.set_connection_state(id, connection_state::disconnected);
    methods_.device_gone(id);
  }
  for (const auto& [id, s] : live)
    if (registry_.find(id)) {
      registry_.set_connection_state(id, connection_state::connected);
      deliver_cloud_to_device(id);
      refresh_cloud_to_device_count(id);
      if (sessions_.is_subscribed(id, device_subscription::methods)) methods_.device_ready(id);
    }
}

nlohmann::json hub::device_get_twin(std::string_view device_id) {
  auto view = registry_.get_twin_for_device(device_id);
  registry_.record_activity(device_id);
  return view;
}

std::int64_t hub::device_update_reported(std::string_view device_id, const nlohmann::json& patch) {
  const auto version = registry_.update_reported_properties(device_id, patch);
  registry_.record_activity(device_id);
  return version;
}

std::uint64_t hub::device_sent_telemetry(device_to_cloud_message message) {
  if (!registry_.find(message.device_id)) throw errors::device_not_found(message.device_id);
  registry_.record_activity(message.device_id);
  message.enqueued_time = clock_.now();
  const std::string device_id = message.device_id;
  const auto fault = fault_requested(message.application);
  const auto sequence = telemetry_.append(std::move(message));
  // A throttled or over-quota MQTT connection is closed on the message (no negative PUBACK in 3.1.1).
  if (active_fault(device_id) == fault_action::drop_on_send) channel_.disconnect(device_id);
  if (fault) start_fault(device_id, *fault);
  return sequence;
}

std::optional<fault_action> hub::active_fault(std::string_view device_id) const {
  const auto f = faults_.find(std::string(device_id));
  if (f == faults_.end() || !f->second.active) return std::nullopt;
  return f->second.request.action;
}

void hub::announce_identity(std::string_view device_id, const device_identity& identity) {
  if (active_fault(device_id) != fault_action::refuse_connections) {
    channel_.identity_changed(device_id, &identity);
    return;
  }
  device_identity refused = identity;
  refused.status = device_status::disabled;
  channel_.identity_changed(device_id, &refused);
}

void hub::start_fault(const std::string& device_id, const fault_request& request) {
  cancel_fault(device_id);
  fault_state& f = faults_[device_id];
  f.request = request;
  if (request.delay == duration::zero()) {
    begin_fault(device_id);
  } else {
    f.timer = clock_.call_after(request.delay, [this, device_id] { begin_fault(device_id); });
  }
}

void hub::begin_fault(const std::string& device_id) {
  const auto f = faults_.find(device_id);
  if (f == faults_.end()) return;
  const fault_request request = f->second.request;
  if (request.action == fault_action::drop_connection) {
    faults_.erase(f);
  } else {
    f->second.active = true;
    f->second.timer = clock_.call_after(request.fault_duration, [this, device_id] { end_fault(device_id); });
    if (const auto* d = registry_.find(device_id); d && request.action == fault_action::refuse_connections)
      announce_identity(device_id, *d);
  }
  channel_.disconnect(device_id);
}

void hub::end_fault(const std::string& device_id) {
  const auto f = faults_.find(device_id);
  if (f == faults_.end()) return;
  const bool was_refusing = f->second.request.action == fault_action::refuse_connections;
  faults_.erase(f);
  if (const auto* d = registry_.find(device_id); d && was_refusing) announce_identity(device_id, *d);
}

void hub::cancel_fault(std::string_view device_id) {
  const auto f = faults_.find(std::string(device_id));
  if (f == faults_.end()) return;
  const bool was_refusing = f->second.active && f->second.request.action == fault_action::refuse_connections;
  clock_.cancel(f->second.timer);
  faults_.erase(f);
  if (const auto* d = registry_.find(device_id); d && was_refusing) channel_.identity_changed(device_id, d);
}

}  // namespace mockhub::core
