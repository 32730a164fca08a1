// The opaque `x-ms-continuation` token of a paged query. Internal to mock_hub/core/query.
//
// It is base64 of a small JSON object: the query it belongs to (a hash of its canonical text,
// since the hub expects the same query with a continuation [Obs Azure/Industrial-IoT#522]),
// and where the next page starts: after a document key (plain queries) or at a row offset
// (aggregates, whose rows are recomputed on every page), plus how many items were returned
// so far (for TOP).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mockhub::core::query {

struct continuation_token {
  std::uint64_t query_hash = 0;
  bool by_offset = false;     // aggregate rows: resume at `offset`; otherwise after `after_key`
  std::string after_key;
  std::uint64_t offset = 0;
  std::uint64_t returned = 0;  // items returned on earlier pages

  std::string encode() const;
  /// Throws hub_error 400004 ArgumentInvalid for a token that is malformed, was issued for
  /// another query, or is not of the expected shape (`by_offset`).
  static continuation_token decode(std::string_view text, std::uint64_t expected_query_hash, bool by_offset);
};

/// FNV-1a, 64 bits: stable across runs and builds.
std::uint64_t fnv1a64(std::string_view text);

}  // namespace mockhub::core::query
