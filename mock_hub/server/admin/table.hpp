// `--output table`: JSON objects as an aligned text table, one row per object, like `az -o table`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::server::admin {

struct column {
  std::string header;
  /// A JSON pointer into each row ("/deviceId", "/authentication/type").
  std::string pointer;
};

/// A cell's text: strings as they are, null or missing as empty, anything else as compact JSON.
std::string cell_text(const nlohmann::json& value);

/// Prints `rows` (an object, or an array of objects) under `columns`: a header line, a dashed
/// line, then one line per row, columns separated by two spaces and padded to the widest cell.
void print_table(std::ostream& out, const nlohmann::json& rows, const std::vector<column>& columns);

/// The columns of arbitrary rows (query results): every top-level member, in the order first seen.
std::vector<column> columns_of(const nlohmann::json& rows);

}  // namespace mockhub::server::admin
