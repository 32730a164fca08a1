#include "compiled_condition.hpp"

#include "matching_scan.hpp"
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

void compiled_condition::scan(const document_source& source, const document_source::visitor& visit) const {
  scan_matching(program_ ? &*program_ : nullptr, source, {},
                [&](std::string_view key, packed_view doc) { return visit(key, doc); });
}

}  // namespace mockhub::core::query
