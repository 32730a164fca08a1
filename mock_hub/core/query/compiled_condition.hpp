// A job's queryCondition, compiled once and matched against twins by the job engine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "document_source.hpp"
#include "expression_program.hpp"

namespace mockhub::core::query {

class compiled_condition {
 public:
  /// True for `*`: every device.
  bool all_devices() const noexcept { return !program_.has_value(); }
  /// Whether a twin (wire shape of GET /twins/{id}) is selected: `*`, or the condition is Boolean true.
  bool matches(packed_view twin) const { return !program_ || program_->matches(twin); }
  bool matches(const nlohmann::json& twin) const { return !program_ || program_->matches(twin); }
  /// Visits, in key order, every twin of `source` the condition selects, until `visit` returns
  /// false: the job engine's way to select a fleet, several times faster than matches() per
  /// twin (documents are filtered in batches; see document_source for what that asks of it).
  void scan(const document_source& source, const document_source::visitor& visit) const;
  /// `*`, or the condition's canonical text, e.g. `deviceId IN ['d1', 'd2']`.
  const std::string& canonical_text() const noexcept { return canonical_text_; }

 private:
  friend compiled_condition compile_condition(std::string_view query_condition);
  compiled_condition() = default;

  std::optional<expression_program> program_;
  std::string canonical_text_ = "*";
};

/// Compiles a job's queryCondition: the WHERE clause of a twin query without WHERE (the same
/// grammar, paths and errors as compile_query's WHERE), or `*` for all devices. Throws
/// hub_error 400000 GenericBadRequest ("The query is invalid...") with the position and what
/// was expected, as compile_query does.
compiled_condition compile_condition(std::string_view query_condition);

}  // namespace mockhub::core::query
