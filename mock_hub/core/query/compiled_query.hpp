// A query of `POST /devices/query`, compiled once, then run page by page over a collection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ast.hpp"
#include "document_source.hpp"
#include "expression_program.hpp"

namespace mockhub::core::query {

/// The page size when the request names none (`x-ms-max-item-count` absent), and the largest
/// the hub serves: "a max page size of less than or equal to 100 records" [Doc query language,
/// "Query results pagination"]. A larger or non-positive request is served with this size,
/// as "the service may use a different value if the value specified is not acceptable" [Spec].
inline constexpr int default_page_size = 100;
inline constexpr int max_page_size = 100;

struct page_request {
  /// `x-ms-max-item-count`: 0 (absent) means the default; values are clamped to 1..max_page_size.
  int max_item_count = 0;
  /// `x-ms-continuation` of the previous page; empty for the first page.
  std::string_view continuation = {};
};

struct query_page {
  nlohmann::json items = nlohmann::json::array();
  /// The `x-ms-item-type` header: `twin`, `deviceJob` or `raw`.
  std::string_view item_type;
  /// The `x-ms-continuation` header; absent on the last page.
  std::optional<std::string> continuation;
};

/// A page as `POST /devices/query` sends it: the items as one JSON array text, written straight
/// from the packed documents (no JSON values built for SELECT * rows).
struct query_page_text {
  std::string items = "[]";  // exactly query_page::items.dump(-1, ' ', false, error_handler_t::replace)
  std::size_t count = 0;     // how many items
  std::string_view item_type;
  std::optional<std::string> continuation;
};

class compiled_query {
 public:
  /// Which collection the query reads: the caller passes the matching source to `run`.
  ast::collection collection() const noexcept { return from_; }
  /// `twin` for SELECT * over devices or modules, `deviceJob` for SELECT * FROM devices.jobs,
  /// `raw` for projections and aggregates.
  std::string_view item_type() const noexcept;
  /// The query in canonical form, e.g. `SELECT * FROM devices WHERE tags.a = 'x'`.
  const std::string& canonical_text() const noexcept { return canonical_text_; }
  /// Whether a document passes the WHERE clause (true when there is none).
  bool matches(packed_view doc) const { return !where_ || where_->matches(doc); }
  bool matches(const nlohmann::json& doc) const { return !where_ || where_->matches(doc); }

  /// One page of results from `source`, which must hold the collection() documents.
  /// Throws hub_error 400004 ArgumentInvalid for a continuation token that is malformed or
  /// belongs to another query.
  query_page run(const document_source& source, const page_request& request = {}) const;
  /// The same page, as text (the REST handler's form). Throws as run().
  query_page_text run_text(const document_source& source, const page_request& request = {}) const;

 private:
  friend compiled_query compile_query(std::string_view text);
  compiled_query() = default;

  enum class column_kind { path, count, avg, sum, min, max };
  struct column {
    std::string name;
    column_kind kind = column_kind::path;
    std::vector<std::string> path;  // document path (path columns and aggregate arguments)
  };

  // The rows of a page of a streaming (not aggregated) query, each handed to `emit(doc)`;
  // returns the continuation token for the next page, if there is one.
  template <class Emit>
  std::optional<std::string> stream_page(const document_source& source, int page_size, std::string_view continuation,
                                         Emit&& emit) const;
  query_page run_aggregate(const document_source& source, int page_size, std::string_view continuation) const;
  std::vector<nlohmann::json> aggregate_rows(const document_source& source) const;
  nlohmann::json project(packed_view doc) const;

  ast::collection from_ = ast::collection::devices;
  bool select_all_ = true;
  bool aggregated_ = false;
  std::optional<std::int64_t> top_;
  std::optional<expression_program> where_;
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> group_by_;  // document paths
  std::string canonical_text_;
  std::uint64_t hash_ = 0;
};

/// Compiles `SELECT ... FROM devices | devices.modules | devices.jobs [WHERE ...] [GROUP BY ...]`.
/// Throws hub_error 400000 GenericBadRequest, message starting "The query is invalid. Please
/// check the format of the query and try again.", for text over 8192 characters, a syntax error
/// (with line, column and what was expected), an unknown or routing-only function, a projection,
/// aggregate or GROUP BY on devices.jobs, a devices.jobs condition on twin fields, a projection
/// outside GROUP BY in an aggregate query, or two columns with the same name.
compiled_query compile_query(std::string_view text);

}  // namespace mockhub::core::query
