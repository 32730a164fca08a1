// The durable hub store: one SQLite database file (WAL) holding the registry and twins, the
// shared access policies, jobs and their device records, and the cloud-to-device messages that
// wait for their device. What `mockhub start` uses (`<data-dir>/hub.db`); see README.md.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "mock_hub/core/hub_store.hpp"

struct sqlite3;

namespace mockhub::store {

/// A data file that cannot be used: unreadable, corrupt, not mockhub's, or written by a newer
/// mockhub. The message names the file and what to do.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct sqlite_store_options {
  /// The database file; created (mode 0600) when missing, its directory too (mode 0700).
  std::filesystem::path file{};
  /// false (default): `synchronous=NORMAL`. In WAL mode a commit is then written to the WAL
  /// before the operation returns but not fsynced: it survives the hub being killed (kill -9,
  /// a crash) because the OS keeps the written pages, and only an OS crash or power loss may
  /// lose the last commits. true: `synchronous=FULL`, an fsync per commit, surviving those too.
  bool fsync_every_commit = false;
};

class sqlite_store final : public core::hub_store {
 public:
  /// The schema this build writes (PRAGMA user_version). A file with a higher one is refused.
  static constexpr int schema_version = 1;

  /// Opens or creates the database. Throws store_error when the file cannot be opened, is not
  /// a SQLite database or not mockhub's, fails its integrity check, or has a newer schema.
  explicit sqlite_store(sqlite_store_options options);
  ~sqlite_store() override;

  /// Everything stored, and counts this opening (stored_state::boot). Throws store_error for a
  /// record that does not parse, naming it.
  core::stored_state load() override;

  const std::filesystem::path& file() const noexcept { return options_.file; }

 protected:
  void do_put_device(const core::device_identity& identity, core::packed_view twin) override;
  void do_delete_device(std::string_view device_id) override;
  void do_put_policies(std::span<const core::shared_access_policy> policies) override;
  void do_put_job(const core::stored_job& job) override;
  void do_delete_job(std::string_view job_id) override;
  void do_delete_all_jobs() override;
  void do_put_device_run(std::string_view job_id, const core::stored_device_run& run) override;
  void do_put_cloud_to_device(const core::stored_cloud_to_device& message) override;
  void do_delete_cloud_to_device(std::string_view device_id, std::uint64_t sequence) override;
  void commit() override;

 private:
  class statement;
  void open();
  void create_schema();
  void begin();
  statement& prepared(int which, const char* sql);
  [[noreturn]] void write_failed(const std::string& what);

  sqlite_store_options options_;
  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
  std::unique_ptr<statement> statements_[10];
};

}  // namespace mockhub::store
