// The syntax tree of an IoT Hub query, and its canonical text. A tree prints back to one
// canonical text (upper-case keywords, single spaces, single-quoted strings, minimal
// parentheses), so parse -> print -> parse -> print gives the same text, and tests compare it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::core::query::ast {

enum class expr_kind {
  constant,  // undefined, null, true/false, number, string, or an array constant
  path,      // tags.location.region
  unary,     // NOT x, -x
  binary,    // x AND y, x = y, x + y, ...
  in,        // x IN [..] or x NIN [..]
  call,      // IS_DEFINED(x), STARTSWITH(x, y), COUNT(), ...
};

enum class unary_op { not_, minus };

enum class binary_op { or_, and_, eq, ne, lt, gt, le, ge, add, sub, mul, div, mod };

struct expr {
  expr_kind kind = expr_kind::constant;
  std::size_t offset = 0;  // where the expression starts in the query text

  /// constant: the value; `undefined` is a JSON "discarded" value.
  nlohmann::json value;
  /// path: the segments as written (or, after compilation, as resolved).
  std::vector<std::string> path;
  unary_op unary = unary_op::not_;
  binary_op binary = binary_op::or_;
  /// in: true for NIN.
  bool negated = false;
  /// call: the function name as written.
  std::string function;
  /// unary: 1 operand; binary: 2; in: the tested value then the array constant; call: the arguments.
  std::vector<std::unique_ptr<expr>> children;
};

using expr_ptr = std::unique_ptr<expr>;

/// One element of a SELECT list: a path or an aggregate call, with an optional alias.
struct projection {
  expr_ptr value;
  std::optional<std::string> alias;
};

enum class collection { devices, modules, jobs };

struct query {
  std::optional<std::int64_t> top;
  bool select_all = false;             // SELECT *
  std::vector<projection> projections;  // empty when select_all
  collection from = collection::devices;
  expr_ptr where;                       // null when there is no WHERE
  std::vector<expr_ptr> group_by;       // paths
};

/// Canonical text of an expression, e.g. `tags.a = 'x' AND NOT IS_DEFINED(tags.b)`.
std::string to_text(const expr& e);
/// Canonical text of a query, e.g. `SELECT TOP 5 * FROM devices WHERE tags.a = 1`.
std::string to_text(const query& q);
/// `devices`, `devices.modules` or `devices.jobs`.
std::string_view to_text(collection c);

/// True for the words the language reserves (case-insensitive). A path segment or alias that is
/// one of them must be written in double brackets, e.g. `tags.[[group]]`.
bool is_keyword(std::string_view word);

/// A deep copy.
expr_ptr clone(const expr& e);

}  // namespace mockhub::core::query::ast
