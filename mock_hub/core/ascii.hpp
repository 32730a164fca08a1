// ASCII case folding for protocol words (SAS field names, host names, query keywords, enum
// values): locale-independent, so a Turkish locale cannot change what matches.
#pragma once

#include <string>
#include <string_view>

namespace mockhub::core {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// `s` with ASCII letters upper-cased (keywords and function names in messages).
inline std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

/// Equal when compared ASCII-case-insensitively.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace mockhub::core
