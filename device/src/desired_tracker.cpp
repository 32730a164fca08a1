#include "mockhub/device/desired_tracker.hpp"

#include <algorithm>

namespace mockhub::device {

namespace {
std::int64_t version_of(const nlohmann::json& j, std::int64_t fallback = 0) {
  if (j.is_object()) {
    const auto it = j.find("$version");
    if (it != j.end() && it->is_number_integer()) return it->get<std::int64_t>();
  }
  return fallback;
}
}  // namespace

std::vector<desired_update> desired_tracker::abort_resync() {
  resyncing_ = false;
  std::vector<desired_update> out;
  std::stable_sort(held_.begin(), held_.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (auto& u : held_) {
    if (u.version <= last_) continue;
    last_ = u.version;
    out.push_back(std::move(u));
  }
  held_.clear();
  return out;
}

std::vector<desired_update> desired_tracker::on_twin(const nlohmann::json& desired) {
  resyncing_ = false;
  std::vector<desired_update> out;
  const auto v = version_of(desired);
  if (v > last_) {
    last_ = v;
    out.push_back({twin_update_state::complete, desired, v});
  }
  std::stable_sort(held_.begin(), held_.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (auto& u : held_) {
    if (u.version <= last_) continue;  // the GET already contains it
    last_ = u.version;
    out.push_back(std::move(u));
  }
  held_.clear();
  return out;
}

desired_tracker::patch_result desired_tracker::on_patch(const nlohmann::json& patch, std::int64_t topic_version) {
  patch_result r;
  const auto v = version_of(patch, topic_version);
  if (resyncing_) {
    held_.push_back({twin_update_state::partial, patch, v});
    return r;
  }
  if (v != 0 && v <= last_) return r;  // older than what was delivered: drop
  if (v != 0 && last_ != 0 && v > last_ + 1) {
    // A version was missed (sent while this connection was not subscribed yet, or lost):
    // the patch alone would leave its changes out, so catch up with a GET.
    held_.push_back({twin_update_state::partial, patch, v});
    resyncing_ = true;
    r.resync = true;
    return r;
  }
  if (v != 0) last_ = v;
  r.deliver.push_back({twin_update_state::partial, patch, v});
  return r;
}

}  // namespace mockhub::device
