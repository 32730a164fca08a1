// A compiled query expression, evaluated in place over a JSON document.
//
// Compilation turns the syntax tree into a flat array of nodes with pre-split paths and
// constants held once; evaluation walks it without allocating and without copying the
// document: paths are looked up segment by segment in the document's own objects, and
// strings are compared where they lie.
//
// Values follow the hub's type rules (README.md, "Type rules"): a value is undefined, null,
// a Boolean, a number, a string, an array or an object. Comparisons are defined only between
// primitives of the same type; anything else is undefined, and logic is three-valued
// (true, false, undefined). A condition matches only when it evaluates to Boolean true.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ast.hpp"

#include "mock_hub/core/packed_json.hpp"

namespace mockhub::core::query {

/// A value during evaluation: a view, never an owner (strings and containers stay in the
/// document or in the program's constants).
struct value {
  enum class kind : std::uint8_t { undefined, null, boolean, number, string, array, object };
  kind type = kind::undefined;
  bool boolean = false;
  double number = 0;
  std::string_view string;
  packed_view node;                      // arrays and objects of a document
  const nlohmann::json* json = nullptr;  // arrays and objects of a constant

  static value of(const nlohmann::json& j);
  static value of(packed_view v);
  bool is_true() const { return type == kind::boolean && boolean; }
  /// An array or object value as JSON (a copy).
  nlohmann::json container() const { return node.valid() ? node.to_json() : json ? *json : nlohmann::json(); }
};

class expression_program {
 public:
  /// Compiles an expression whose paths are already resolved to document paths. Throws the
  /// hub's "query is invalid" error (400000) for an unknown function, a function the hub
  /// supports only in message routing, an aggregate, or a wrong number of arguments.
  explicit expression_program(const ast::expr& e);

  expression_program(expression_program&&) noexcept = default;
  expression_program& operator=(expression_program&&) noexcept = default;
  // Nodes point into the program's own constants: copying would leave them pointing into the original.
  expression_program(const expression_program&) = delete;
  expression_program& operator=(const expression_program&) = delete;

  value evaluate(packed_view doc) const;
  /// True only when the expression evaluates to Boolean true.
  bool matches(packed_view doc) const { return evaluate(doc).is_true(); }
  /// The same for an unpacked document (packs a copy first: tests and single documents).
  bool matches(const nlohmann::json& doc) const { return matches(packed_json(doc).view()); }

  /// How many documents match_batch takes at once.
  static constexpr std::size_t batch_size = 16;
  /// Whether each of `count` (<= batch_size) documents matches, into `matched`. The same
  /// answers as matches(), faster over many documents: each distinct path prefix is looked up
  /// once per document (`properties.reported` once for all reported paths), and the caller
  /// prefetches the batch's documents before it comes here (matching_scan.hpp), so their memory
  /// reads overlap. `scratch` is reused between calls.
  void match_batch(const packed_view* docs, std::size_t count, bool* matched, std::vector<packed_view>& scratch) const;

 private:
  enum class op : std::uint8_t {
    constant, undefined_constant, path, not_, negate, and_, or_,
    eq, ne, lt, gt, le, ge, add, sub, mul, div, mod, in, nin,
    is_defined, starts_with, ends_with,
  };
  struct node {
    op code = op::constant;
    std::uint32_t a = 0;  // first operand; for a path, its slot
    std::uint32_t b = 0;  // second operand; for a path, its index in paths_
    const nlohmann::json* constant = nullptr;  // constant, or the list of IN/NIN
  };
  // One segment lookup of a batch: slot `slot` is segment `segment` of slot `parent`. Slot 0 is
  // the document; every distinct path prefix has one slot, computed after its parent's.
  struct path_step {
    std::uint32_t parent = 0;
    std::uint32_t slot = 0;
    std::string segment;
  };

  std::uint32_t compile(const ast::expr& e);
  std::uint32_t slot_of(const std::vector<std::string>& path);
  // `slots`: the resolved path prefixes of `doc` (batch evaluation), or null to look paths up.
  value eval(std::uint32_t index, packed_view doc, const packed_view* slots) const;

  std::vector<node> nodes_;
  std::vector<std::vector<std::string>> paths_;
  std::vector<path_step> steps_;
  std::uint32_t slot_count_ = 1;
  std::deque<nlohmann::json> constants_;  // a deque: adding one never moves the others
  std::uint32_t root_ = 0;
};

/// The value at `path` in `doc`, or an invalid view when some segment is missing or not an
/// object. Looks each segment up in place: no allocation, no copy.
packed_view find_path(packed_view doc, const std::vector<std::string>& path);

/// Comparison of two values under the hub's rules: `incomparable` when they are not comparable
/// (different types, undefined, arrays or objects, or an ordering of nulls).
enum class ordering { less, equal, greater, incomparable };
ordering compare(const value& a, const value& b, bool equality_only);

}  // namespace mockhub::core::query
