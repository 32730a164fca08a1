#include "sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "store_records.hpp"

namespace mockhub::store {

namespace {

// "mkhb": PRAGMA application_id of a mockhub database.
constexpr int application_id = 0x6d6b6862;

const char* const schema_sql = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE devices (device_id TEXT PRIMARY KEY, identity TEXT NOT NULL, twin TEXT NOT NULL);
CREATE TABLE policies (id INTEGER PRIMARY KEY CHECK (id = 1), policies TEXT NOT NULL);
CREATE TABLE jobs (job_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, job TEXT NOT NULL);
CREATE TABLE job_devices (job_id TEXT NOT NULL, device_id TEXT NOT NULL, record TEXT NOT NULL,
                          PRIMARY KEY (job_id, device_id)) WITHOUT ROWID;
CREATE TABLE cloud_to_device (device_id TEXT NOT NULL, sequence INTEGER NOT NULL, message TEXT NOT NULL,
                              PRIMARY KEY (device_id, sequence)) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('boot', '0');
)sql";

enum statement_id {
  put_device_sql,
  delete_device_sql,
  delete_device_messages_sql,
  put_policies_sql,
  put_job_sql,
  delete_job_sql,
  delete_job_devices_sql,
  put_device_run_sql,
  put_message_sql,
  delete_message_sql,
};

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

// One prepared statement; reset after every use.
class sqlite_store::statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw store_error(std::string("cannot prepare a statement: ") + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  /// Steps once; true while there is a row. Throws store_error on failure.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw store_error(message);
  }
  void run() {
    step();
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

sqlite_store::sqlite_store(sqlite_store_options options) : options_(std::move(options)) {
  try {
    open();
  } catch (...) {
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

sqlite_store::~sqlite_store() {
  try {
    commit();
  } catch (const std::exception&) {  // nothing left to tell: the last operation already failed
  }
  for (auto& s : statements_) s.reset();
  if (db_) sqlite3_close_v2(db_);
}

void sqlite_store::open() {
  const auto& file = options_.file;
  const std::string where = "the mockhub data file " + file.string();
  std::error_code ec;
  if (file.has_parent_path() && !std::filesystem::exists(file.parent_path(), ec)) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) throw store_error("cannot create the directory of " + where + ": " + ec.message());
    std::filesystem::permissions(file.parent_path(), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  // Created owner-only before SQLite sees it: the WAL and shared-memory files take its mode.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw store_error("cannot open " + where + ": " + std::strerror(errno));
  ::close(fd);

  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    throw store_error("cannot open " + where + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);

  const auto pragma_int = [&](const char* sql) {
    statement s(db_, sql);
    return s.step() ? s.integer(0) : 0;
  };
  std::int64_t version = 0;
  std::int64_t app = 0;
  std::int64_t tables = 0;
  try {
    version = pragma_int("PRAGMA user_version");
    app = pragma_int("PRAGMA application_id");
    tables = pragma_int("SELECT count(*) FROM sqlite_master");
    statement check(db_, "PRAGMA quick_check");
    const std::string verdict = check.step() ? check.text(0) : std::string("no answer");
    if (verdict != "ok") throw store_error(verdict);
  } catch (const store_error& e) {
    throw store_error(where + " is damaged or is not a SQLite database (" + e.what() +
                      "); move it away to start with an empty hub, or restore a copy");
  }
  if (tables > 0 && app != application_id)
    throw store_error(where + " is a SQLite database but not mockhub's; choose another --data-dir");
  if (version > schema_version)
    throw store_error(where + " was written by a newer mockhub (schema version " + std::to_string(version) +
                      "; this mockhub reads version " + std::to_string(schema_version) +
                      " and older); run that newer mockhub, or choose another --data-dir");

  const auto exec = [&](const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw store_error("cannot set up " + where + ": " + message);
    }
  };
  exec("PRAGMA journal_mode=WAL");
  exec(options_.fsync_every_commit ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  if (version == 0) create_schema();
}

void sqlite_store::create_schema() {
  const std::string sql = std::string("BEGIN IMMEDIATE;") + schema_sql + "PRAGMA application_id=" +
                          std::to_string(application_id) + ";PRAGMA user_version=" + std::to_string(schema_version) +
                          ";COMMIT;";
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw store_error("cannot create the tables of the mockhub data file " + options_.file.string() + ": " + message);
  }
}

core::stored_state sqlite_store::load() {
  core::stored_state state;
  const std::string where = "the mockhub data file " + options_.file.string();
  std::string row;
  try {
    {
      statement s(db_, "SELECT value FROM meta WHERE key = 'boot'");
      state.boot = s.step() ? std::stoull(s.text(0)) : 0;
    }
    {
      statement s(db_, "SELECT device_id, identity, twin FROM devices ORDER BY device_id");
      while (s.step()) {
        row = "device '" + s.text(0) + "'";
        state.devices.push_back(
            {records::identity_from_json(nlohmann::json::parse(s.text(1))), nlohmann::json::parse(s.text(2))});
      }
    }
    {
      statement s(db_, "SELECT policies FROM policies WHERE id = 1");
      if (s.step()) {
        row = "the shared access policies";
        state.policies = records::policies_from_json(nlohmann::json::parse(s.text(0)));
      }
    }
    {
      statement s(db_, "SELECT job_id, job FROM jobs ORDER BY sequence");
      while (s.step()) {
        row = "job '" + s.text(0) + "'";
        state.jobs.push_back(records::job_from_json(nlohmann::json::parse(s.text(1)), s.text(0)));
      }
    }
    {
      statement s(db_, "SELECT job_id, device_id, record FROM job_devices ORDER BY job_id, device_id");
      while (s.step()) {
        row = "the record of device '" + s.text(1) + "' in job '" + s.text(0) + "'";
        state.job_devices[s.text(0)].push_back(records::device_run_from_json(nlohmann::json::parse(s.text(2)), s.text(1)));
      }
    }
    {
      statement s(db_, "SELECT device_id, sequence, message FROM cloud_to_device ORDER BY sequence");
      while (s.step()) {
        row = "a cloud-to-device message of device '" + s.text(0) + "'";
        state.cloud_to_device.push_back({s.text(0), static_cast<std::uint64_t>(s.integer(1)),
                                         records::message_from_json(nlohmann::json::parse(s.text(2)))});
      }
    }
    row = "the boot counter";
    begin();
    statement s(db_, "UPDATE meta SET value = ? WHERE key = 'boot'");
    s.bind(1, std::to_string(state.boot + 1)).run();
    commit();
  } catch (const store_error& e) {
    throw store_error("cannot read " + where + " (" + row + "): " + e.what());
  } catch (const std::exception& e) {
    throw store_error("cannot read " + where + ": " + row + " is damaged (" + e.what() + ")");
  }
  return state;
}

sqlite_store::statement& sqlite_store::prepared(int which, const char* sql) {
  auto& s = statements_[which];
  if (!s) s = std::make_unique<statement>(db_, sql);
  return *s;
}

void sqlite_store::write_failed(const std::string& what) {
  if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_transaction_ = false;
  throw core::errors::server_error("mockhub could not write its data file " + options_.file.string() + ": " + what);
}

void sqlite_store::begin() {
  if (in_transaction_) return;
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) write_failed(sqlite3_errmsg(db_));
  in_transaction_ = true;
}

void sqlite_store::commit() {
  if (!in_transaction_) return;
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) write_failed(sqlite3_errmsg(db_));
  in_transaction_ = false;
}

void sqlite_store::do_put_device(const core::device_identity& identity, core::packed_view twin) {
  begin();
  try {
    prepared(put_device_sql, "INSERT OR REPLACE INTO devices (device_id, identity, twin) VALUES (?, ?, ?)")
        .bind(1, identity.device_id)
        .bind(2, dump(records::to_json(identity)))
        .bind(3, dump(twin.to_json()))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_delete_device(std::string_view device_id) {
  begin();
  try {
    prepared(delete_device_sql, "DELETE FROM devices WHERE device_id = ?").bind(1, device_id).run();
    prepared(delete_device_messages_sql, "DELETE FROM cloud_to_device WHERE device_id = ?").bind(1, device_id).run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_put_policies(std::span<const core::shared_access_policy> policies) {
  begin();
  try {
    prepared(put_policies_sql, "INSERT OR REPLACE INTO policies (id, policies) VALUES (1, ?)")
        .bind(1, dump(records::to_json(policies)))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_put_job(const core::stored_job& job) {
  begin();
  try {
    prepared(put_job_sql,
             "INSERT INTO jobs (job_id, sequence, job) VALUES (?, (SELECT coalesce(max(sequence), 0) + 1 FROM jobs), ?) "
             "ON CONFLICT (job_id) DO UPDATE SET job = excluded.job")
        .bind(1, job.job.request.job_id)
        .bind(2, dump(records::to_json(job)))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_delete_job(std::string_view job_id) {
  begin();
  try {
    prepared(delete_job_sql, "DELETE FROM jobs WHERE job_id = ?").bind(1, job_id).run();
    prepared(delete_job_devices_sql, "DELETE FROM job_devices WHERE job_id = ?").bind(1, job_id).run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_delete_all_jobs() {
  begin();
  if (sqlite3_exec(db_, "DELETE FROM jobs; DELETE FROM job_devices;", nullptr, nullptr, nullptr) != SQLITE_OK)
    write_failed(sqlite3_errmsg(db_));
}

void sqlite_store::do_put_device_run(std::string_view job_id, const core::stored_device_run& run) {
  begin();
  try {
    prepared(put_device_run_sql, "INSERT OR REPLACE INTO job_devices (job_id, device_id, record) VALUES (?, ?, ?)")
        .bind(1, job_id)
        .bind(2, run.device_id)
        .bind(3, dump(records::to_json(run)))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_put_cloud_to_device(const core::stored_cloud_to_device& message) {
  begin();
  try {
    prepared(put_message_sql, "INSERT OR REPLACE INTO cloud_to_device (device_id, sequence, message) VALUES (?, ?, ?)")
        .bind(1, message.device_id)
        .bind(2, static_cast<std::int64_t>(message.sequence))
        .bind(3, dump(records::to_json(message.message)))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

void sqlite_store::do_delete_cloud_to_device(std::string_view device_id, std::uint64_t sequence) {
  begin();
  try {
    prepared(delete_message_sql, "DELETE FROM cloud_to_device WHERE device_id = ? AND sequence = ?")
        .bind(1, device_id)
        .bind(2, static_cast<std::int64_t>(sequence))
        .run();
  } catch (const store_error& e) {
    write_failed(e.what());
  }
}

}  // namespace mockhub::store
