// Version tracking of desired properties (reference section 1.7): the hub sends desired patches
// only while a device is connected, so after every (re)connect the device GETs the twin and
// drops notifications older than what the GET saw. Transport-free, so it is unit-tested alone.
//
// - `begin_resync()` when a GET is sent: notifications are held back until its answer.
// - `on_twin(desired)` with the GET's desired section: if its `$version` is newer than the last
//   delivered, it is delivered whole (`complete`), then the held notifications newer than it.
// - `on_patch(patch)`: delivered when newer than the last delivered; a gap in versions (one was
//   missed) holds it back and asks for a resync instead.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::device {

/// How a desired-properties update is to be read (as the C SDK's DEVICE_TWIN_UPDATE_STATE).
enum class twin_update_state {
  complete,  ///< the whole desired section (after a GET: first connect, reconnect, missed versions)
  partial,   ///< a patch: members to merge, null deletes
};

struct desired_update {
  twin_update_state state = twin_update_state::partial;
  nlohmann::json desired;  ///< includes "$version"
  std::int64_t version = 0;
};

class desired_tracker {
 public:
  struct patch_result {
    std::vector<desired_update> deliver;
    bool resync = false;  ///< a version was missed: GET the twin (begin_resync + on_twin)
  };

  /// A GET is about to be sent.
  void begin_resync() noexcept { resyncing_ = true; }
  /// A GET failed: deliver what was held back, in order, and stop waiting.
  std::vector<desired_update> abort_resync();
  /// The GET's desired section (with `$version`).
  std::vector<desired_update> on_twin(const nlohmann::json& desired);
  /// A desired notification (its `$version` from the body, else `topic_version`).
  patch_result on_patch(const nlohmann::json& patch, std::int64_t topic_version = 0);

  bool resyncing() const noexcept { return resyncing_; }
  /// The `$version` last delivered (0: nothing yet).
  std::int64_t last_delivered() const noexcept { return last_; }

 private:
  std::int64_t last_ = 0;
  bool resyncing_ = false;
  std::vector<desired_update> held_;
};

}  // namespace mockhub::device
