// Looks one key up in many JSON objects at once. Internal to mock_hub/core/query.
//
// A query over 100,000 twins is bound by memory latency: every step down a std::map (a JSON
// object) is a dependent cache miss, and one document's lookup cannot start its next step
// before the last one arrived. Looking the same key up in a batch of documents lets those
// misses overlap: with libstdc++, the tree descents of all the documents advance one level
// per round, each node prefetched a round before it is read. Elsewhere it falls back to
// std::map::find per document (same results, less overlap).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace mockhub::core::query {

/// For each d < count: out[d] = the member `key` of *objects[d], or null when objects[d] is
/// null, not an object, or has no such member. `count` is at most 64.
void batch_lookup(const nlohmann::json* const* objects, std::size_t count, const std::string& key,
                  const nlohmann::json** out);

/// The member `key` of `object`, or null (one document; the same ordering as batch_lookup).
const nlohmann::json* lookup(const nlohmann::json& object, const std::string& key);

}  // namespace mockhub::core::query
