#include "hub_store.hpp"

#include <exception>
#include <iostream>

namespace mockhub::core {

hub_store::batch::batch(hub_store* store) : store_(store), unwinding_(std::uncaught_exceptions()) {
  if (store_) ++store_->depth_;
}

hub_store::batch::~batch() noexcept(false) {
  if (!store_ || --store_->depth_ > 0) return;
  if (std::uncaught_exceptions() == unwinding_) {
    store_->commit();
    return;
  }
  // An operation is failing: keep what it changed in memory and on disk in step, but never
  // throw a second exception.
  try {
    store_->commit();
  } catch (const std::exception& e) {
    std::cerr << "mockhub: " << e.what() << "\n";
  }
}

void hub_store::put_device(const device_identity& identity, packed_view twin) {
  batch b(this);
  do_put_device(identity, twin);
}

void hub_store::delete_device(std::string_view device_id) {
  batch b(this);
  do_delete_device(device_id);
}

void hub_store::put_policies(std::span<const shared_access_policy> policies) {
  batch b(this);
  do_put_policies(policies);
}

void hub_store::put_job(const stored_job& job) {
  batch b(this);
  do_put_job(job);
}

void hub_store::delete_job(std::string_view job_id) {
  batch b(this);
  do_delete_job(job_id);
}

void hub_store::delete_all_jobs() {
  batch b(this);
  do_delete_all_jobs();
}

void hub_store::put_device_run(std::string_view job_id, const stored_device_run& run) {
  batch b(this);
  do_put_device_run(job_id, run);
}

void hub_store::put_cloud_to_device(const stored_cloud_to_device& message) {
  batch b(this);
  do_put_cloud_to_device(message);
}

void hub_store::delete_cloud_to_device(std::string_view device_id, std::uint64_t sequence) {
  batch b(this);
  do_delete_cloud_to_device(device_id, sequence);
}

}  // namespace mockhub::core
