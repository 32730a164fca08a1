#include "twin_limits.hpp"

#include <string>

#include "errors.hpp"

namespace mockhub::core {

namespace {
using nlohmann::json;

// Decodes the code point at `i` and moves `i` past it. Bytes that are not well-formed UTF-8
// decode one at a time as U+FFFD: they count as characters but never as control characters.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t len = 0;
  char32_t cp = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return U'\uFFFD';
  }
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return U'\uFFFD';
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += len;
  return cp;
}

// Unicode category Cc: the C0 segment, DEL and the C1 segment.
bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

bool is_forbidden_in_key(char32_t cp) { return is_control(cp) || cp == '.' || cp == '$' || cp == '#' || cp == ' '; }

std::size_t text_size(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (!is_control(next_code_point(s, i))) ++n;
  }
  return n;
}

// `key` as a JSON string, so control characters show as escapes; past `max_chars` characters it
// is cut on a character boundary and ends in "...".
std::string shown_key(std::string_view key, std::size_t max_chars = std::string_view::npos) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < max_chars && i < key.size(); ++k) next_code_point(key, i);
  const std::string shown = json(std::string(key.substr(0, i))).dump(-1, ' ', false, json::error_handler_t::replace);
  return i < key.size() ? shown + "..." : shown;
}

std::string_view size_name(twin_section s) noexcept {
  switch (s) {
    case twin_section::tags: return "Tags";
    case twin_section::desired: return "Properties.Desired";
    case twin_section::reported: return "Properties.Reported";
  }
  return "";
}

void check_key(const std::string& key, const std::string& parent) {
  if (key.size() > twin_limits::max_key_bytes) {
    throw errors::argument_invalid("Property or Tag name should be maximum " +
                                   std::to_string(twin_limits::max_key_bytes) + " bytes. Error in Property/Tag " +
                                   shown_key(key, 16) + " (" + std::to_string(key.size()) + " bytes) in " + parent +
                                   ".");
  }
  for (std::size_t i = 0; i < key.size();) {
    if (is_forbidden_in_key(next_code_point(key, i))) {
      throw errors::argument_invalid("Property or Tag name has invalid characters. Error in Property/Tag " +
                                     shown_key(key) + " in " + parent +
                                     ". Must not contain Control Characters, '.', '$', '#', or ' '.");
    }
  }
}

void check_value(const json& v, const std::string& path, int level, bool in_array);

void check_members(const json& object, const std::string& path, int level, bool in_array) {
  for (const auto& [key, value] : object.items()) {
    check_key(key, path);
    check_value(value, path + "." + key, level + 1, in_array);
  }
}

// `level` is the nesting level `v` would sit at if it is an object or an array.
void check_value(const json& v, const std::string& path, int level, bool in_array) {
  const auto too_deep = [&] {
    return errors::argument_invalid("Twin nesting should be maximum " + std::to_string(twin_limits::max_depth) +
                                    " levels. Error in Property/Tag " + path + " (level " + std::to_string(level) +
                                    ").");
  };
  switch (v.type()) {
    case json::value_t::null:
      if (in_array) throw errors::argument_invalid("Arrays cannot contain null values. Error in Property/Tag " + path + ".");
      return;
    case json::value_t::object:
      if (level > twin_limits::max_depth) throw too_deep();
      check_members(v, path, level, in_array);
      return;
    case json::value_t::array:
      if (level > twin_limits::max_depth) throw too_deep();
      for (std::size_t i = 0; i < v.size(); ++i) check_value(v[i], path + "[" + std::to_string(i) + "]", level + 1, true);
      return;
    case json::value_t::string: {
      const auto bytes = v.get_ref<const std::string&>().size();
      if (bytes > twin_limits::max_string_bytes) {
        throw errors::argument_invalid("Property or Tag value should be maximum " +
                                       std::to_string(twin_limits::max_string_bytes) + " bytes. Error in Property/Tag " +
                                       path + " (" + std::to_string(bytes) + " bytes).");
      }
      return;
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      const bool in_range =
          v.is_number_unsigned()
              ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(twin_limits::max_integer)
              : v.get<std::int64_t>() >= twin_limits::min_integer && v.get<std::int64_t>() <= twin_limits::max_integer;
      if (!in_range) {
        throw errors::argument_invalid("Property or Tag integer value should be between " +
                                       std::to_string(twin_limits::min_integer) + " and " +
                                       std::to_string(twin_limits::max_integer) + ". Error in Property/Tag " + path +
                                       " (" + v.dump() + ").");
      }
      return;
    }
    case json::value_t::number_float:
    case json::value_t::boolean:
      return;
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  throw errors::argument_invalid("Property or Tag value has an unsupported type. Error in Property/Tag " + path + ".");
}

std::size_t value_size(const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      std::size_t n = 0;
      for (const auto& [key, value] : v.items()) n += text_size(key) + value_size(value);
      return n;
    }
    case json::value_t::array: {
      std::size_t n = 0;
      for (const auto& e : v) n += value_size(e);
      return n;
    }
    case json::value_t::string: return text_size(v.get_ref<const std::string&>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return 8;
    case json::value_t::boolean: return 4;
    case json::value_t::null:
    case json::value_t::binary:
    case json::value_t::discarded: return 0;
  }
  return 0;
}
}  // namespace

std::string_view wire_path(twin_section s) noexcept {
  switch (s) {
    case twin_section::tags: return "tags";
    case twin_section::desired: return "properties.desired";
    case twin_section::reported: return "properties.reported";
  }
  return "";
}

std::size_t size_limit(twin_section s) noexcept {
  switch (s) {
    case twin_section::tags: return twin_limits::max_tags_size;
    case twin_section::desired: return twin_limits::max_desired_size;
    case twin_section::reported: return twin_limits::max_reported_size;
  }
  return 0;
}

void validate_section_write(twin_section s, const json& content) {
  const std::string root(wire_path(s));
  if (!content.is_object()) throw errors::argument_invalid("'" + root + "' must be a JSON object.");
  check_members(content, root, 0, false);
}

std::size_t section_size(const json& content) { return value_size(content); }

void check_section_size(twin_section s, const json& content) {
  const auto size = section_size(content);
  if (size > size_limit(s)) {
    throw errors::device_model_max_properties_exceeded(
        "'" + std::string(size_name(s)) + "' size should be at most " + std::to_string(size_limit(s)) +
        " bytes; this operation would make it " + std::to_string(size) + " bytes.");
  }
}

}  // namespace mockhub::core
