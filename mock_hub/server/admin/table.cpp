#include "table.hpp"

#include <algorithm>

namespace mockhub::server::admin {

using nlohmann::json;

std::string cell_text(const json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

void print_table(std::ostream& out, const json& rows, const std::vector<column>& columns) {
  const json list = rows.is_array() ? rows : json::array({rows});
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width;
  for (const column& c : columns) width.push_back(c.header.size());
  for (const json& row : list) {
    std::vector<std::string>& line = cells.emplace_back();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const json::json_pointer pointer(columns[i].pointer);
      if (columns[i].pointer.empty()) line.push_back(cell_text(row));
      else line.push_back(row.is_object() && row.contains(pointer) ? cell_text(row.at(pointer)) : std::string{});
      width[i] = std::max(width[i], line.back().size());
    }
  }
  const auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << text << '\n';
  };
  std::vector<std::string> header, dashes;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    header.push_back(columns[i].header);
    dashes.emplace_back(width[i], '-');
  }
  print_line(header);
  print_line(dashes);
  for (const auto& line : cells) print_line(line);
}

std::vector<column> columns_of(const json& rows) {
  std::vector<column> columns;
  const json list = rows.is_array() ? rows : json::array({rows});
  for (const json& row : list) {
    if (!row.is_object()) {
      if (std::none_of(columns.begin(), columns.end(), [](const column& c) { return c.pointer.empty(); }))
        columns.push_back({"Value", ""});
      continue;
    }
    for (const auto& [name, value] : row.items())
      if (std::none_of(columns.begin(), columns.end(), [&](const column& c) { return c.header == name; }))
        columns.push_back({name, (json::json_pointer() / name).to_string()});
  }
  return columns;
}

}  // namespace mockhub::server::admin
