// Scans a document source and filters it in batches. Internal to mock_hub/core/query.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "document_source.hpp"
#include "expression_program.hpp"

namespace mockhub::core::query {

/// Calls `use(key, doc)` for each document of `source` after `after_key` for which `where`
/// is Boolean true (every document when `where` is null), in key order, until `use` returns
/// false. Documents are collected into batches of expression_program::batch_size and
/// filtered together (match_batch), so a document may be looked at after its visit, or after
/// scan() returns, as document_source allows.
template <class F>
void scan_matching(const expression_program* where, const document_source& source, std::string_view after_key,
                   F&& use) {
  constexpr std::size_t batch = expression_program::batch_size;
  std::array<std::string_view, batch> keys;
  std::array<packed_view, batch> docs{};
  std::array<bool, batch> matched{};
  std::vector<packed_view> scratch;
  std::size_t n = 0;
  bool stopped = false;
  auto flush = [&] {
    if (where) {
      where->match_batch(docs.data(), n, matched.data(), scratch);
    } else {
      matched.fill(true);
    }
    for (std::size_t i = 0; i < n && !stopped; ++i) {
      if (matched[i] && !use(keys[i], docs[i])) stopped = true;
    }
    n = 0;
  };
  source.scan(after_key, [&](std::string_view key, packed_view doc) {
    // The batch's documents load while the rest of it is collected: a twin is about a kilobyte,
    // and its lookups skip through most of it (`tags` comes after `properties`, near the end).
    // The whole document, up to 2 KB: its header is in cache by now when the source fetches
    // ahead (the registry does). (A prefetch never faults, even past the end.)
    const std::size_t size = std::min<std::size_t>(doc.byte_size(), 2048);
    for (std::size_t line = 0; line < size; line += 64) __builtin_prefetch(doc.data() + line);
    keys[n] = key;
    docs[n] = doc;
    if (++n == batch) flush();
    return !stopped;
  });
  if (n > 0 && !stopped) flush();
}

}  // namespace mockhub::core::query
