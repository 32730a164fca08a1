#include "compiled_query.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "continuation_token.hpp"
#include "lexer.hpp"
#include "matching_scan.hpp"
#include "parser.hpp"
#include "path_resolver.hpp"

#include "mock_hub/core/ascii.hpp"

namespace mockhub::core::query {
namespace {

int clamp_page_size(int requested) {
  if (requested <= 0) return default_page_size;
  return std::min(requested, max_page_size);
}

// A value back in JSON. Numbers that are whole (and exactly representable) print as integers,
// as the hub's JSON does not tell 3 from 3.0.
nlohmann::json to_json(const value& v) {
  switch (v.type) {
    case value::kind::null: return nullptr;
    case value::kind::boolean: return v.boolean;
    case value::kind::number:
      if (std::trunc(v.number) == v.number && std::fabs(v.number) < 9007199254740992.0) {
        return static_cast<std::int64_t>(v.number);
      }
      return v.number;
    case value::kind::string: return std::string(v.string);
    case value::kind::array:
    case value::kind::object: return v.container();
    default: return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

// A total order over values for grouping: undefined < null < false < true < numbers <
// strings < arrays < objects, each type in its natural order.
int rank(const value& v) { return static_cast<int>(v.type); }
bool value_less(const value& a, const value& b) {
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  switch (a.type) {
    case value::kind::boolean: return !a.boolean && b.boolean;
    case value::kind::number: return a.number < b.number;
    case value::kind::string: return a.string < b.string;
    case value::kind::array:
    case value::kind::object: return a.container() < b.container();
    default: return false;
  }
}
struct key_less {
  bool operator()(const std::vector<value>& a, const std::vector<value>& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), value_less);
  }
};

// Running state of one aggregate column in one group.
struct accumulator {
  double sum = 0;
  std::uint64_t numbers = 0;
  bool poisoned = false;  // SUM/AVG saw a non-number; MIN/MAX saw an array or object
  bool has_best = false;
  value best;              // a view into a document, for comparing during the scan
  nlohmann::json best_json;  // an owned copy, for the row after the scan
};

value value_at(packed_view doc, const std::vector<std::string>& path) { return value::of(find_path(doc, path)); }

}  // namespace

std::string_view compiled_query::item_type() const noexcept {
  if (!select_all_) return "raw";
  return from_ == ast::collection::jobs ? "deviceJob" : "twin";
}

compiled_query compile_query(std::string_view text) {
  ast::query q = parse_query(text);
  compiled_query c;
  c.from_ = q.from;
  c.select_all_ = q.select_all;
  c.top_ = q.top;

  if (q.from == ast::collection::jobs) {
    if (!q.select_all) {
      throw_invalid_query("Queries on devices.jobs support only SELECT *: projections and aggregates are not supported.");
    }
    if (!q.group_by.empty()) throw_invalid_query("Queries on devices.jobs do not support GROUP BY.");
  }
  if (q.select_all && !q.group_by.empty()) {
    throw_invalid_query("GROUP BY needs a projection list of grouped properties and aggregates, not SELECT *.");
  }

  if (q.where) {
    canonicalize_paths(*q.where, q.from);
    c.where_.emplace(*with_document_paths(*q.where, q.from));
  }
  for (auto& g : q.group_by) {
    canonicalize_paths(*g, q.from);
    c.group_by_.push_back(document_path(g->path, q.from));
  }

  bool has_aggregate = false;
  int unnamed = 0;
  std::set<std::string> names;
  for (auto& p : q.projections) {
    compiled_query::column col;
    ast::expr& e = *p.value;
    if (e.kind == ast::expr_kind::call) {
      const std::string fn = ascii_upper(e.function);
      std::size_t arity = 1;
      if (fn == "COUNT") {
        col.kind = compiled_query::column_kind::count;
        arity = 0;
      } else if (fn == "AVG") {
        col.kind = compiled_query::column_kind::avg;
      } else if (fn == "SUM") {
        col.kind = compiled_query::column_kind::sum;
      } else if (fn == "MIN") {
        col.kind = compiled_query::column_kind::min;
      } else if (fn == "MAX") {
        col.kind = compiled_query::column_kind::max;
      } else {
        throw_invalid_query("'" + e.function +
                            "' cannot be selected: a projection is a property path or one of COUNT(), AVG, SUM, MIN, MAX.");
      }
      if (e.children.size() != arity) {
        throw_invalid_query(arity == 0 ? std::string("COUNT() takes no argument.")
                                       : fn + " takes one property path.");
      }
      has_aggregate = true;
      if (arity == 1) {
        canonicalize_paths(*e.children[0], q.from);
        col.path = document_path(e.children[0]->path, q.from);
      }
      col.name = p.alias ? *p.alias : "$" + std::to_string(++unnamed);
    } else {
      canonicalize_paths(e, q.from);
      col.path = document_path(e.path, q.from);
      col.name = p.alias ? *p.alias : col.path.back();
    }
    if (!names.insert(col.name).second) {
      throw_invalid_query("Two columns of the SELECT list are named '" + col.name + "'; give one of them an alias with AS.");
    }
    c.columns_.push_back(std::move(col));
  }

  c.aggregated_ = has_aggregate || !c.group_by_.empty();
  if (c.aggregated_) {
    for (const auto& col : c.columns_) {
      if (col.kind != compiled_query::column_kind::path) continue;
      if (std::find(c.group_by_.begin(), c.group_by_.end(), col.path) == c.group_by_.end()) {
        throw_invalid_query("'" + joined(col.path) +
                            "' is selected in an aggregate query but is not in GROUP BY.");
      }
    }
  }

  c.canonical_text_ = ast::to_text(q);
  c.hash_ = fnv1a64(c.canonical_text_);
  return c;
}

query_page compiled_query::run(const document_source& source, const page_request& request) const {
  const int page_size = clamp_page_size(request.max_item_count);
  if (aggregated_) return run_aggregate(source, page_size, request.continuation);
  query_page page;
  page.item_type = item_type();
  auto& items = page.items.get_ref<nlohmann::json::array_t&>();
  items.reserve(static_cast<std::size_t>(page_size));
  page.continuation = stream_page(source, page_size, request.continuation, [&](packed_view doc) { items.push_back(project(doc)); });
  return page;
}

query_page_text compiled_query::run_text(const document_source& source, const page_request& request) const {
  const int page_size = clamp_page_size(request.max_item_count);
  query_page_text page;
  page.item_type = item_type();
  page.items = "[";
  auto separate = [&] {
    if (page.count++ > 0) page.items += ',';
  };
  if (aggregated_) {
    query_page rows = run_aggregate(source, page_size, request.continuation);
    for (const auto& row : rows.items) {
      separate();
      page.items += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    page.continuation = std::move(rows.continuation);
  } else {
    page.continuation = stream_page(source, page_size, request.continuation, [&](packed_view doc) {
      separate();
      if (select_all_) {
        doc.dump_to(page.items);  // a twin's text straight from its packed bytes
      } else {
        page.items += project(doc).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    });
  }
  page.items += ']';
  return page;
}

nlohmann::json compiled_query::project(packed_view doc) const {
  if (select_all_) return doc.to_json();
  nlohmann::json row = nlohmann::json::object();
  for (const auto& col : columns_) {
    // An undefined property is left out of the row, as the hub leaves out what it cannot read.
    if (const packed_view j = find_path(doc, col.path); j.valid()) row[col.name] = j.to_json();
  }
  return row;
}

template <class Emit>
std::optional<std::string> compiled_query::stream_page(const document_source& source, int page_size,
                                                       std::string_view continuation, Emit&& emit) const {
  continuation_token position;
  if (!continuation.empty()) {
    position = continuation_token::decode(continuation, hash_, false);
  }
  std::uint64_t limit = static_cast<std::uint64_t>(page_size);
  bool capped_by_top = false;
  if (top_) {
    const auto top = static_cast<std::uint64_t>(*top_);
    const std::uint64_t left = top > position.returned ? top - position.returned : 0;
    if (left <= limit) {
      limit = left;
      capped_by_top = true;
    }
  }
  if (limit == 0) return std::nullopt;

  std::string last_key;
  std::uint64_t emitted = 0;
  bool more = false;
  scan_matching(where_ ? &*where_ : nullptr, source, position.after_key, [&](std::string_view key, packed_view doc) {
    if (emitted == limit) {
      more = !capped_by_top;  // another match exists beyond this page
      return false;
    }
    emit(doc);
    ++emitted;
    last_key.assign(key);
    return emitted < limit || !capped_by_top;
  });
  if (!more) return std::nullopt;
  continuation_token next;
  next.query_hash = hash_;
  next.after_key = std::move(last_key);
  next.returned = position.returned + emitted;
  return next.encode();
}

std::vector<nlohmann::json> compiled_query::aggregate_rows(const document_source& source) const {
  // Keys view into the documents, which stay valid during the scan; rows are built from
  // owned copies after it.
  struct group {
    std::uint64_t count = 0;
    std::vector<accumulator> accumulators;
    std::vector<nlohmann::json> key_json;
  };
  std::map<std::vector<value>, group, key_less> groups;
  if (group_by_.empty()) groups[{}].accumulators.resize(columns_.size());  // one row, even over no documents

  std::vector<value> key(group_by_.size());
  scan_matching(where_ ? &*where_ : nullptr, source, {}, [&](std::string_view, packed_view doc) {
    for (std::size_t i = 0; i < group_by_.size(); ++i) key[i] = value_at(doc, group_by_[i]);
    auto it = groups.find(key);
    if (it == groups.end()) {
      it = groups.emplace(key, group{}).first;
      it->second.accumulators.resize(columns_.size());
      for (const value& v : key) it->second.key_json.push_back(to_json(v));
    }
    group& g = it->second;
    ++g.count;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const column& col = columns_[c];
      if (col.kind == column_kind::path || col.kind == column_kind::count) continue;
      accumulator& acc = g.accumulators[c];
      const value v = value_at(doc, col.path);
      if (v.type == value::kind::undefined || acc.poisoned) continue;
      if (col.kind == column_kind::sum || col.kind == column_kind::avg) {
        if (v.type != value::kind::number) {
          acc.poisoned = true;  // SUM and AVG are undefined over anything but numbers
        } else {
          acc.sum += v.number;
          ++acc.numbers;
        }
      } else if (v.type == value::kind::array || v.type == value::kind::object) {
        acc.poisoned = true;  // MIN and MAX compare primitives only
      } else if (!acc.has_best || (col.kind == column_kind::min ? value_less(v, acc.best) : value_less(acc.best, v))) {
        acc.best = v;
        acc.best_json = to_json(v);
        acc.has_best = true;
      }
    }
    return true;
  });

  std::vector<nlohmann::json> rows;
  rows.reserve(groups.size());
  for (const auto& entry : groups) {
    const group& g = entry.second;
    nlohmann::json row = nlohmann::json::object();
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const column& col = columns_[c];
      const accumulator& acc = g.accumulators[c];
      nlohmann::json cell(nlohmann::json::value_t::discarded);
      switch (col.kind) {
        case column_kind::path: {
          const auto at = std::find(group_by_.begin(), group_by_.end(), col.path) - group_by_.begin();
          cell = g.key_json[static_cast<std::size_t>(at)];
          break;
        }
        case column_kind::count: cell = g.count; break;
        case column_kind::sum: {
          value v;
          v.type = value::kind::number;
          v.number = acc.sum;
          if (!acc.poisoned) cell = to_json(v);
          break;
        }
        case column_kind::avg:
          if (!acc.poisoned && acc.numbers > 0) {
            value v;
            v.type = value::kind::number;
            v.number = acc.sum / static_cast<double>(acc.numbers);
            cell = to_json(v);
          }
          break;
        case column_kind::min:
        case column_kind::max:
          if (!acc.poisoned && acc.has_best) cell = acc.best_json;
          break;
      }
      if (!cell.is_discarded()) row[col.name] = std::move(cell);  // undefined cells are left out
    }
    rows.push_back(std::move(row));
  }
  if (top_ && rows.size() > static_cast<std::uint64_t>(*top_)) rows.resize(static_cast<std::size_t>(*top_));
  return rows;
}

query_page compiled_query::run_aggregate(const document_source& source, int page_size,
                                         std::string_view continuation) const {
  query_page page;
  page.item_type = item_type();
  std::uint64_t offset = 0;
  if (!continuation.empty()) {
    offset = continuation_token::decode(continuation, hash_, true).offset;
  }
  std::vector<nlohmann::json> rows = aggregate_rows(source);
  const std::uint64_t end = std::min<std::uint64_t>(rows.size(), offset + static_cast<std::uint64_t>(page_size));
  for (std::uint64_t i = offset; i < end; ++i) page.items.push_back(std::move(rows[static_cast<std::size_t>(i)]));
  if (end < rows.size()) {
    continuation_token next;
    next.query_hash = hash_;
    next.by_offset = true;
    next.offset = end;
    next.returned = end;
    page.continuation = next.encode();
  }
  return page;
}

}  // namespace mockhub::core::query
