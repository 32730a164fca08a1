// Tokens of the IoT Hub query language. Internal to mock_hub/core/query.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::core::query {

enum class token_kind {
  identifier,          // tags, SELECT, deviceId (keywords are identifiers; the parser tells them apart)
  quoted_identifier,   // [[group]]: a path segment or alias written in double brackets
  number,              // 42, 4.5, 1e3, 0x1F
  string,              // 'x' or "x", escapes decoded
  lparen, rparen, lbracket, rbracket, comma, dot, star,
  plus, minus, slash, percent,
  eq, ne, lt, gt, le, ge,  // = , != and <>, <, >, <=, >=
  end,
};

struct token {
  token_kind kind = token_kind::end;
  std::size_t offset = 0;  // byte offset of the token in the query text
  std::string_view raw;    // the token as written
  std::string text;        // identifier name, decoded string, or quoted-identifier content
  nlohmann::json number;   // the value of a number token
};

/// Splits query text into tokens (the last one is `end`). Throws the hub's "query is invalid"
/// error (400000) with the position for an unterminated string, a bad escape, a malformed
/// number or a character the language does not have.
std::vector<token> tokenize(std::string_view text);

/// A printable name for a token in error messages: 'FROM', a string, "end of query".
std::string describe(const token& t);

/// Throws the hub's "query is invalid" error (400000) for a problem at `offset` of `text`,
/// naming the line and column.
[[noreturn]] void throw_syntax_error(std::string_view text, std::size_t offset, std::string_view what);

/// Throws the hub's "query is invalid" error (400000) for a query that parses but the hub refuses.
[[noreturn]] void throw_invalid_query(std::string_view what);

}  // namespace mockhub::core::query
