// Where a query reads its documents from. The registry hands its twins (and the job engine
// its per-device job records) to the query engine through this interface, so the engine never
// copies a collection and never knows how it is stored.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mock_hub/core/packed_json.hpp"

namespace mockhub::core::query {

class document_source {
 public:
  /// Called once per document; return false to stop the scan.
  using visitor = std::function<bool(std::string_view key, packed_view doc)>;

  document_source() = default;
  document_source(const document_source&) = delete;
  document_source& operator=(const document_source&) = delete;
  virtual ~document_source() = default;

  /// Visits, in ascending key order, every document whose key is strictly greater than
  /// `after_key` (every document when `after_key` is empty; keys are never empty), until
  /// `visit` returns false. Keys and documents must stay valid and unchanged until the query
  /// run that scans them returns: the engine evaluates documents in small batches, so it may
  /// look at a visited document after its visit, or after scan() has returned.
  ///
  /// Keys: the device id for `devices`; for `devices.jobs`, any key that is unique per
  /// (job, device) record and ordered consistently, e.g. jobId + '\n' + deviceId. Continuation
  /// tokens carry the last key seen, so a page resumes strictly after it: a document that
  /// exists throughout a paged query is returned exactly once, however others come and go.
  virtual void scan(std::string_view after_key, const visitor& visit) const = 0;
};

/// A source over a map of key -> document (tests, benchmarks, simple stores). It packs its own
/// copy of the documents when it is built: later changes to the map are not seen.
class map_document_source final : public document_source {
 public:
  using map_type = std::map<std::string, nlohmann::json, std::less<>>;

  explicit map_document_source(const map_type& documents) {
    for (const auto& [key, doc] : documents) documents_.emplace_hint(documents_.end(), key, packed_json(doc));
  }

  void scan(std::string_view after_key, const visitor& visit) const override {
    auto it = after_key.empty() ? documents_.begin() : documents_.upper_bound(after_key);
    for (; it != documents_.end(); ++it) {
      if (!visit(it->first, it->second.view())) return;
    }
  }

 private:
  std::map<std::string, packed_json, std::less<>> documents_;
};

}  // namespace mockhub::core::query
