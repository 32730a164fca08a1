#include "job_engine.hpp"

#include <algorithm>

#include "errors.hpp"
#include "time_format.hpp"

namespace mockhub::core {

using nlohmann::json;

std::optional<int> max_concurrent_jobs_for_tier(std::string_view tier) noexcept {
  if (tier == "F1" || tier == "S1") return 1;
  if (tier == "S2") return 5;
  if (tier == "S3") return 10;
  return std::nullopt;
}

// A device's record (what the store keeps) and its devices.jobs document.
struct job_engine::device_run : stored_device_run {
  // The record as devices.jobs returns it, rendered when a query reads it after a change (not at
  // every change: a job over 10,000 devices changes each record three times, and building the
  // document each time was the executor's largest cost in bench B1). It is kept, because the
  // query engine reads documents in batches and needs them to outlive each visit.
  std::string key;  // jobId '\n' deviceId
  mutable packed_json document;
  mutable bool stale = true;
};

struct job_engine::job_state {
  job_state(scheduled_job j, query::compiled_condition c) : job(std::move(j)), condition(std::move(c)) {}
  scheduled_job job;
  query::compiled_condition condition;
  std::vector<device_run> devices;  // in device-id order
  std::size_t next = 0;             // the next device to start
  clock::timer_id start_timer = 0;
  clock::timer_id deadline_timer = 0;
  clock::timer_id retention_timer = 0;
  std::optional<time_point> run_started;
  bool starting = false;  // its query is running (start): it may not finish yet
  // A method job's request as its devices receive it, serialised once for all of them.
  std::shared_ptr<const prepared_method_request> prepared;

  bool active() const noexcept {
    return job.status == job_status::queued || job.status == job_status::scheduled || job.status == job_status::running;
  }
};

// devices.jobs: every device record of every kept job, keyed jobId '\n' deviceId.
class job_engine::records_source final : public query::document_source {
 public:
  explicit records_source(const job_engine& engine) : engine_(engine) {}

  void scan(std::string_view after_key, const visitor& visit) const override {
    std::string_view after_job, after_device;
    if (!after_key.empty()) {
      const auto nl = after_key.find('\n');
      after_job = after_key.substr(0, nl);
      after_device = nl == std::string_view::npos ? std::string_view{} : after_key.substr(nl + 1);
    }
    auto it = after_key.empty() ? engine_.jobs_.begin() : engine_.jobs_.lower_bound(after_job);
    for (; it != engine_.jobs_.end(); ++it) {
      const job_state& js = *it->second;
      auto d = js.devices.begin();
      if (!after_key.empty() && it->first == after_job)
        d = std::upper_bound(js.devices.begin(), js.devices.end(), after_device,
                             [](std::string_view id, const device_run& r) { return id < r.device_id; });
      for (; d != js.devices.end(); ++d) {
        if (d->stale) render(js, *d);
        if (!visit(d->key, d->document.view())) return;
      }
    }
  }

 private:
  static void render(const job_state& js, const device_run& r) {
    json doc = {{"deviceId", r.device_id},
                {"jobId", js.job.request.job_id},
                {"jobType", to_string(js.job.request.type)},
                {"status", to_string(r.status)},
                {"startTimeUtc", format_time(r.start_time)},
                {"endTimeUtc", format_time(r.end_time)},
                {"createdDateTimeUtc", format_time(js.job.created_time)},
                {"lastUpdatedDateTimeUtc", format_time(r.last_updated)},
                {"outcome", {{"deviceMethodResponse", r.outcome ? json(*r.outcome) : json()}}}};
    if (r.error) doc["error"] = {{"code", r.error->first}, {"description", r.error->second}};
    r.document = packed_json(doc);
    r.stale = false;
  }

  const job_engine& engine_;
};

// A device record changed: its document is rendered again when a query next reads it.
void job_engine::refresh_record(const job_state&, device_run& r) { r.stale = true; }

job_engine::job_engine(job_engine_options options, clock& clk, job_device_operations& devices, hub_store* store)
    : options_(std::move(options)),
      clock_(clk),
      devices_(devices),
      store_(store),
      records_(std::make_unique<records_source>(*this)) {
  if (options_.slice == 0) options_.slice = 1;
  if (options_.max_in_flight == 0) options_.max_in_flight = 1;
}

job_engine::~job_engine() = default;

const query::document_source& job_engine::device_job_records() const noexcept { return *records_; }

void job_engine::clear() {
  for (auto& [id, js] : jobs_)
    for (auto* timer : {&js->start_timer, &js->deadline_timer, &js->retention_timer}) {
      if (*timer) clock_.cancel(*timer);
      *timer = 0;
    }
  jobs_.clear();
  creation_order_.clear();
  running_.clear();
  round_robin_ = 0;
  if (store_) store_->delete_all_jobs();
}

void job_engine::persist_job(const job_state& js) {
  if (store_) store_->put_job({js.job, js.run_started});
}

void job_engine::persist_run(const job_state& js, const device_run& r) {
  if (store_) store_->put_device_run(js.job.request.job_id, r);
}

int job_engine::active_jobs() const noexcept {
  int n = 0;
  for (const auto& [id, js] : jobs_) n += js->active() ? 1 : 0;
  return n;
}

job_engine::job_state& job_engine::state(std::string_view job_id) {
  const auto it = jobs_.find(job_id);
  if (it == jobs_.end()) throw errors::job_not_found(job_id);
  return *it->second;
}

const job_engine::job_state& job_engine::state(std::string_view job_id) const {
  const auto it = jobs_.find(job_id);
  if (it == jobs_.end()) throw errors::job_not_found(job_id);
  return *it->second;
}

const scheduled_job& job_engine::create_scheduled_job(job_request request) {
  if (jobs_.contains(request.job_id)) throw errors::job_already_exists(request.job_id);
  if (active_jobs() >= options_.max_concurrent_jobs)
    throw errors::throttling_max_active_job_count_exceeded(options_.max_concurrent_jobs);
  auto condition = query::compile_condition(request.query_condition);

  const time_point now = clock_.now();
  scheduled_job job;
  job.created_time = now;
  job.start_time = request.start_time.value_or(now);
  job.request = std::move(request);
  const std::string id = job.request.job_id;
  auto& js = *jobs_.emplace(id, std::make_unique<job_state>(std::move(job), std::move(condition))).first->second;
  creation_order_.push_back(id);
  persist_job(js);
  arm_start(js);
  return js.job;
}

void job_engine::arm_start(job_state& js) {
  const time_point now = clock_.now();
  const std::string id = js.job.request.job_id;
  const time_point start_at = std::max(js.job.start_time, now);
  if (start_at > now)
    clock_.call_at(now, [this, id] {
      const auto it = jobs_.find(id);
      if (it != jobs_.end() && it->second->job.status == job_status::queued) {
        it->second->job.status = job_status::scheduled;
        persist_job(*it->second);
      }
    });
  js.start_timer = clock_.call_at(start_at, [this, id] {
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    it->second->start_timer = 0;
    start(*it->second);
  });
}

void job_engine::start(job_state& js) {
  if (js.job.status != job_status::queued && js.job.status != job_status::scheduled) return;
  hub_store::batch b(store_);
  js.job.status = job_status::running;
  const time_point now = clock_.now();
  js.run_started = now;
  const std::string job_id = js.job.request.job_id;
  auto& stats = js.job.statistics;
  // The query runs now, against the twins of this moment: devices added later are not included.
  // Ids first, then their records, all at once at the end (growing a vector of records over a
  // 100,000-twin scan moved them again and again), or slice by slice when they start early.
  std::vector<std::string> selected;
  std::size_t created = 0;  // selected devices that have their record in js.devices
  const auto create_records = [&] {
    js.devices.resize(selected.size());
    for (std::size_t i = created; i < selected.size(); ++i) {
      device_run& run = js.devices[i];
      run.key.reserve(job_id.size() + 1 + selected[i].size());
      run.key.append(job_id).append(1, '\n').append(selected[i]);
      run.device_id = std::move(selected[i]);
      run.last_updated = now;
      refresh_record(js, run);
      persist_run(js, run);
    }
    stats.device_count = static_cast<std::int32_t>(selected.size());
    stats.pending_count += static_cast<std::int32_t>(selected.size() - created);
    created = selected.size();
  };
  // A method job over a large registry starts its first devices while its query still runs, a
  // slice at a time as the query finds them, as far as the window allows: their requests are
  // sent at once (flush), so devices answer while the rest of the twins are read (a query over
  // 100,000 twins takes about 20 ms, bench B1). Nothing can change the registry meanwhile (this
  // is one task of the executor), so the job selects exactly the devices it would otherwise.
  // Not with a durable store: a restart in the middle would find the job running with part of
  // its devices, and the pump's order (devices marked running and committed before any is
  // contacted, then contacted) holds only for a whole device list.
  const bool early = js.job.request.type == job_type::schedule_device_method && !options_.device_operations_per_second &&
                     !(store_ && store_->durable());
  js.starting = true;
  const auto start_found = [&] {
    create_records();
    std::vector<std::size_t> starts;
    while (in_flight_ < options_.max_in_flight && starts.size() < options_.slice) {
      const auto index = mark_next_device(js);
      if (!index) break;
      starts.push_back(*index);
    }
    for (const std::size_t index : starts) run_device(job_id, index);
    devices_.flush_method_requests();
  };
  js.condition.scan(devices_.twins(), [&](std::string_view device_id, packed_view) {
    selected.emplace_back(device_id);
    if (early && in_flight_ < options_.max_in_flight && selected.size() - created >= options_.slice) start_found();
    return true;
  });
  create_records();
  js.starting = false;
  persist_job(js);
  if (stats.pending_count == 0 && stats.running_count == 0) {  // none selected, or all started and already ended
    finish(js, job_status::completed);
    return;
  }
  arm_deadline(js);
  running_.push_back(job_id);
  schedule_pump();
}

void job_engine::arm_deadline(job_state& js) {
  const std::string id = js.job.request.job_id;
  const time_point deadline = js.run_started.value_or(clock_.now()) +
                              std::chrono::seconds(js.job.request.max_execution_time_seconds);
  js.deadline_timer = clock_.call_at(deadline, [this, id] {
    const auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->job.status != job_status::running) return;
    it->second->deadline_timer = 0;
    hub_store::batch b(store_);
    end_unfinished(*it->second, device_job_status::failed, "JobTimedOut",
                   "The job reached its maxExecutionTimeInSeconds before this device finished.");
    finish(*it->second, job_status::completed);
  });
}

void job_engine::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  const time_point at = next_operation_at_ ? std::max(*next_operation_at_, clock_.now()) : clock_.now();
  clock_.call_at(at, [this] {
    pump_scheduled_ = false;
    pump();
  });
}

void job_engine::pump() {
  // Two phases: first the devices of this round are marked running, and that is committed to
  // the store before any of them is contacted, so that a hub killed mid-round never runs a
  // device twice after a restart (see restore()); then their operations run, in one batch.
  std::vector<std::pair<std::string, std::size_t>> starts;
  starts.reserve(std::min<std::size_t>(options_.slice, 1024));
  {
    hub_store::batch b(store_);
    bool more = true;
    while (more && !running_.empty()) {
      if (next_operation_at_ && *next_operation_at_ > clock_.now()) {
        schedule_pump();
        break;
      }
      // Round-robin: the next running job that has a device left and may start it now.
      bool any = false;
      for (std::size_t tries = 0; tries < running_.size() && !any; ++tries) {
        round_robin_ %= running_.size();
        auto& js = state(running_[round_robin_]);
        ++round_robin_;
        const bool method = js.job.request.type == job_type::schedule_device_method;
        if (js.next >= js.devices.size() || (method && in_flight_ >= options_.max_in_flight)) continue;
        if (starts.size() == options_.slice) {
          schedule_pump();  // more to do: yield to other work first
          more = false;
          break;
        }
        if (const auto index = mark_next_device(js)) {
          starts.emplace_back(js.job.request.job_id, *index);
          any = true;
        }
      }
      if (!more) break;
      if (!any) break;  // everything left waits for method calls to finish
      if (options_.device_operations_per_second)
        next_operation_at_ = clock_.now() + std::chrono::duration_cast<duration>(std::chrono::duration<double>(
                                                1.0 / *options_.device_operations_per_second));
    }
  }
  hub_store::batch b(store_);
  for (const auto& [job_id, index] : starts) run_device(job_id, index);
}

std::optional<std::size_t> job_engine::mark_next_device(job_state& js) {
  while (js.next < js.devices.size() && js.devices[js.next].status != device_job_status::pending) ++js.next;
  if (js.next >= js.devices.size()) return std::nullopt;
  const std::size_t index = js.next++;
  device_run& run = js.devices[index];
  const time_point now = clock_.now();
  run.status = device_job_status::running;
  run.start_time = now;
  run.last_updated = now;
  --js.job.statistics.pending_count;
  ++js.job.statistics.running_count;
  refresh_record(js, run);
  persist_run(js, run);
  if (js.job.request.type == job_type::schedule_device_method) ++in_flight_;
  return index;
}

void job_engine::run_device(const std::string& job_id, std::size_t index) {
  const auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  job_state& js = *it->second;
  const device_run& run = js.devices[index];
  const std::string device_id = run.device_id;

  if (js.job.request.type == job_type::schedule_update_twin) {
    if (run.status != device_job_status::running) return;
    try {
      devices_.update_twin_for_job(device_id, js.job.request.update_twin);
      device_finished(job_id, index, device_job_status::completed, std::nullopt, std::nullopt);
    } catch (const hub_error& e) {
      device_finished(job_id, index, device_job_status::failed, std::nullopt, e);
    }
    return;
  }
  auto done = [this, job_id, index](method_outcome&& outcome) {
    --in_flight_;
    if (auto* r = std::get_if<method_result>(&outcome))
      device_finished(job_id, index, device_job_status::completed, std::move(*r), std::nullopt);
    else
      device_finished(job_id, index, device_job_status::failed, std::nullopt, std::get<hub_error>(outcome));
  };
  if (run.status != device_job_status::running) {  // ended meanwhile (cancelled)
    --in_flight_;
    return;
  }
  try {
    if (!js.prepared) js.prepared = prepared_method_request::of(*js.job.request.method);
    devices_.invoke_method_for_job(device_id, js.prepared, done);
  } catch (const hub_error& e) {
    done(e);
  }
}

void job_engine::device_finished(const std::string& job_id, std::size_t index, device_job_status status,
                                 std::optional<method_result> outcome, std::optional<hub_error> error) {
  hub_store::batch b(store_);
  const auto it = jobs_.find(job_id);
  if (it != jobs_.end()) {
    job_state& js = *it->second;
    device_run& run = js.devices[index];
    if (run.status == device_job_status::running) {  // not cancelled or timed out meanwhile
      const time_point now = clock_.now();
      run.status = status;
      run.end_time = now;
      run.last_updated = now;
      run.outcome = std::move(outcome);
      if (error) run.error = std::make_pair(error->name(), std::string(error->what()));
      refresh_record(js, run);
      persist_run(js, run);
      auto& stats = js.job.statistics;
      --stats.running_count;
      if (status == device_job_status::completed) ++stats.succeeded_count;
      else ++stats.failed_count;
      if (stats.pending_count == 0 && stats.running_count == 0 && !js.starting) finish(js, job_status::completed);
    }
  }
  if (!running_.empty()) schedule_pump();
}

void job_engine::end_unfinished(job_state& js, device_job_status status, const char* code, const char* description) {
  const time_point now = clock_.now();
  auto& stats = js.job.statistics;
  for (auto& run : js.devices) {
    if (run.status != device_job_status::pending && run.status != device_job_status::running) continue;
    (run.status == device_job_status::pending ? stats.pending_count : stats.running_count)--;
    run.status = status;
    run.end_time = now;
    run.last_updated = now;
    if (status == device_job_status::failed) {
      ++stats.failed_count;
      run.error = std::make_pair(std::string(code), std::string(description));
    }
    refresh_record(js, run);
    persist_run(js, run);
  }
  js.next = js.devices.size();
}

void job_engine::finish(job_state& js, job_status status) {
  js.job.status = status;
  js.job.end_time = clock_.now();
  for (auto* timer : {&js.start_timer, &js.deadline_timer}) {
    if (*timer) clock_.cancel(*timer);
    *timer = 0;
  }
  std::erase(running_, js.job.request.job_id);
  persist_job(js);
  arm_retention(js);
}

void job_engine::arm_retention(job_state& js) {
  const std::string id = js.job.request.job_id;
  js.retention_timer = clock_.call_at(js.job.end_time.value_or(clock_.now()) + options_.retention, [this, id] {
    jobs_.erase(id);
    std::erase(creation_order_, id);
    if (store_) store_->delete_job(id);
  });
}

void job_engine::restore(std::vector<stored_job> jobs,
                         std::map<std::string, std::vector<stored_device_run>, std::less<>> device_runs) {
  hub_store::batch b(store_);
  const time_point now = clock_.now();
  for (auto& stored : jobs) {
    auto condition = query::compile_condition(stored.job.request.query_condition);
    const std::string id = stored.job.request.job_id;
    auto& js = *jobs_.insert_or_assign(id, std::make_unique<job_state>(std::move(stored.job), std::move(condition)))
                    .first->second;
    js.run_started = stored.run_started;
    creation_order_.push_back(id);
    const bool method = js.job.request.type == job_type::schedule_device_method;
    auto& stats = js.job.statistics;
    stats = {};
    if (const auto runs = device_runs.find(id); runs != device_runs.end()) {
      for (auto& r : runs->second) {
        device_run run;
        static_cast<stored_device_run&>(run) = std::move(r);
        run.key = id + "\n" + run.device_id;
        bool changed = false;
        if (run.status == device_job_status::running && js.job.status == job_status::running) {
          changed = true;
          if (method) {
            // Sent before the hub stopped: the device may have run it, and its answer can no
            // longer reach the hub. Never sent twice; it ends as an unanswered call does.
            const auto e = errors::gateway_timeout("Timed out waiting for the response from device.");
            run.status = device_job_status::failed;
            run.end_time = now;
            run.error = std::make_pair(e.name(), std::string(e.what()));
          } else {
            // Its twin write was never committed (it commits with the record's end).
            run.status = device_job_status::pending;
            run.start_time.reset();
          }
          run.last_updated = now;
        }
        ++stats.device_count;
        switch (run.status) {
          case device_job_status::pending: case device_job_status::scheduled: ++stats.pending_count; break;
          case device_job_status::running: ++stats.running_count; break;
          case device_job_status::completed: ++stats.succeeded_count; break;
          case device_job_status::failed: ++stats.failed_count; break;
          case device_job_status::canceled: break;
        }
        refresh_record(js, run);
        if (changed) persist_run(js, run);
        js.devices.push_back(std::move(run));
      }
    }
    switch (js.job.status) {
      case job_status::queued:
      case job_status::scheduled:
        arm_start(js);
        break;
      case job_status::running:
        if (stats.pending_count == 0 && stats.running_count == 0) {
          finish(js, job_status::completed);
          break;
        }
        arm_deadline(js);
        running_.push_back(id);
        schedule_pump();
        break;
      default:
        arm_retention(js);
        break;
    }
  }
}

const scheduled_job& job_engine::get_scheduled_job(std::string_view job_id) const { return state(job_id).job; }

const scheduled_job& job_engine::cancel_scheduled_job(std::string_view job_id) {
  job_state& js = state(job_id);
  switch (js.job.status) {
    case job_status::cancelled:
      return js.job;
    case job_status::completed:
    case job_status::failed:
      throw errors::job_run_precondition_failed("Job '" + std::string(job_id) + "' already ended (" +
                                                std::string(to_string(js.job.status)) + "); it cannot be cancelled.");
    default:
      break;
  }
  hub_store::batch b(store_);
  end_unfinished(js, device_job_status::canceled, "", "");
  finish(js, job_status::cancelled);
  return js.job;
}

std::vector<const scheduled_job*> job_engine::query_scheduled_jobs(std::optional<job_type> type,
                                                                   std::optional<job_status> status) const {
  std::vector<const scheduled_job*> out;
  for (const auto& id : creation_order_) {
    const auto& job = jobs_.at(id)->job;
    if (type && job.request.type != *type) continue;
    if (status && job.status != *status) continue;
    out.push_back(&job);
  }
  return out;
}

}  // namespace mockhub::core
