// The core's port to durable state (implementations: `memory_store` below, the default, and
// mock_hub/store's `sqlite_store`). The core stays the model: it writes every acknowledged
// change through this interface before the operation returns (so before the REST 2xx or the
// MQTT twin 204 leaves), and rebuilds itself from `load()` when it is constructed.
//
// Writes are grouped in batches: every write opens one, and the outermost batch's end commits
// (`commit()`), so a hub operation or a job slice touching many records is one transaction.
// Single-threaded like the core: only the hub's executor thread uses a store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access_policies.hpp"
#include "packed_json.hpp"
#include "clock.hpp"
#include "device_identity.hpp"
#include "direct_methods.hpp"
#include "messages.hpp"
#include "scheduled_job.hpp"

namespace mockhub::core {

/// A device: its identity and its twin document (GET /twins/{id} shape).
struct stored_device {
  device_identity identity;
  nlohmann::json twin;
};

/// One device's record in a job (`devices.jobs`).
struct stored_device_run {
  std::string device_id;
  device_job_status status = device_job_status::pending;
  std::optional<time_point> start_time;
  std::optional<time_point> end_time;
  time_point last_updated{};
  std::optional<method_result> outcome;
  std::optional<std::pair<std::string, std::string>> error;  // code name, description
};

/// A job. Its statistics are recomputed from its device records when loaded.
struct stored_job {
  scheduled_job job;
  /// When the job actually began running (its deadline counts from it).
  std::optional<time_point> run_started;
};

/// A cloud-to-device message waiting for its device; `sequence` orders them hub-wide.
struct stored_cloud_to_device {
  std::string device_id;
  std::uint64_t sequence = 0;
  cloud_to_device_message message;
};

/// Everything a store holds, as `load()` returns it.
struct stored_state {
  /// How many times this state was opened before (0: a new, empty store).
  std::uint64_t boot = 0;
  std::vector<stored_device> devices;  // by device id
  /// nullopt: never written (the hub keeps its built-in policies).
  std::optional<std::vector<shared_access_policy>> policies;
  std::vector<stored_job> jobs;  // in creation order
  std::map<std::string, std::vector<stored_device_run>, std::less<>> job_devices;  // by job id; device-id order
  std::vector<stored_cloud_to_device> cloud_to_device;  // by sequence
};

class hub_store {
 public:
  hub_store() = default;
  hub_store(const hub_store&) = delete;
  hub_store& operator=(const hub_store&) = delete;
  virtual ~hub_store() = default;

  /// What the store holds. Called once, when the hub is built.
  virtual stored_state load() = 0;

  /// Whether what is written survives the hub (a restart loads it). The job engine keeps a
  /// restartable order of writes only for a store that does (see job_engine::start).
  virtual bool durable() const noexcept { return true; }

  /// Groups the writes made while it lives into one transaction; the outermost batch commits
  /// when it ends. A commit that fails throws hub_error 500001 (unless an exception is already
  /// unwinding, in which case the failure is reported on stderr).
  class batch {
   public:
    explicit batch(hub_store* store);
    ~batch() noexcept(false);
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;

   private:
    hub_store* store_;
    int unwinding_;
  };

  // --- Writes (each in a batch of its own unless one is open) ---
  void put_device(const device_identity& identity, packed_view twin);
  /// Removes the device and its waiting cloud-to-device messages.
  void delete_device(std::string_view device_id);
  void put_policies(std::span<const shared_access_policy> policies);
  void put_job(const stored_job& job);
  /// Removes the job and its device records.
  void delete_job(std::string_view job_id);
  void delete_all_jobs();
  void put_device_run(std::string_view job_id, const stored_device_run& run);
  void put_cloud_to_device(const stored_cloud_to_device& message);
  void delete_cloud_to_device(std::string_view device_id, std::uint64_t sequence);

 protected:
  virtual void do_put_device(const device_identity& identity, packed_view twin) = 0;
  virtual void do_delete_device(std::string_view device_id) = 0;
  virtual void do_put_policies(std::span<const shared_access_policy> policies) = 0;
  virtual void do_put_job(const stored_job& job) = 0;
  virtual void do_delete_job(std::string_view job_id) = 0;
  virtual void do_delete_all_jobs() = 0;
  virtual void do_put_device_run(std::string_view job_id, const stored_device_run& run) = 0;
  virtual void do_put_cloud_to_device(const stored_cloud_to_device& message) = 0;
  virtual void do_delete_cloud_to_device(std::string_view device_id, std::uint64_t sequence) = 0;
  /// Makes every write since the last commit durable. Throws hub_error 500001 when it cannot.
  virtual void commit() = 0;

 private:
  int depth_ = 0;
};

/// The in-memory store: the hub's state lives only in the core; nothing is written or loaded.
/// The default of `mockhub run`, the harness and every hub built without a store.
class memory_store final : public hub_store {
 public:
  stored_state load() override { return {}; }
  bool durable() const noexcept override { return false; }

 protected:
  void do_put_device(const device_identity&, packed_view) override {}
  void do_delete_device(std::string_view) override {}
  void do_put_policies(std::span<const shared_access_policy>) override {}
  void do_put_job(const stored_job&) override {}
  void do_delete_job(std::string_view) override {}
  void do_delete_all_jobs() override {}
  void do_put_device_run(std::string_view, const stored_device_run&) override {}
  void do_put_cloud_to_device(const stored_cloud_to_device&) override {}
  void do_delete_cloud_to_device(std::string_view, std::uint64_t) override {}
  void commit() override {}
};

}  // namespace mockhub::core
