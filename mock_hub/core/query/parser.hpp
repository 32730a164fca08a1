// Recursive-descent parser for the IoT Hub query language (grammar in README.md).
// Syntax only: names of functions, the shape of projections and which paths a collection
// allows are checked when a query is compiled (compiled_query.hpp).
#pragma once

#include <cstddef>
#include <string_view>

#include "ast.hpp"

namespace mockhub::core::query {

/// The longest query text the hub accepts, in characters [Doc query-twins, query-jobs].
inline constexpr std::size_t max_query_length = 8192;
/// How deeply parentheses, NOTs and unary signs may nest (a mockhub limit that keeps the
/// recursive parser and evaluator far from the stack's end; no real query comes close).
inline constexpr std::size_t max_nesting_depth = 128;

/// Parses `SELECT ... FROM ... [WHERE ...] [GROUP BY ...]`. Throws hub_error 400000 ("The query
/// is invalid...") naming the line, column and what was expected; or for text over 8192 characters.
ast::query parse_query(std::string_view text);

/// Parses a job's queryCondition: an expression alone (the WHERE clause without WHERE).
/// Returns null for `*` (every device). Same errors as parse_query.
ast::expr_ptr parse_condition(std::string_view text);

/// Characters (UTF-8 code points) in `text`: the unit of the 8192 limit.
std::size_t character_count(std::string_view text);

}  // namespace mockhub::core::query
