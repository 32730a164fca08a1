#include "compiled_condition.hpp"

#include "parser.hpp"
#include "path_resolver.hpp"

namespace mockhub::core::query {

compiled_condition compile_condition(std::string_view query_condition) {
  compiled_condition c;
  auto e = parse_condition(query_condition);
  if (!e) return c;  // `*`
  canonicalize_paths(*e, ast::collection::devices);
  c.program_.emplace(*e);
  c.canonical_text_ = ast::to_text(*e);
  return c;
}

}  // namespace mockhub::core::query
