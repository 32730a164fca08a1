#include "packed_json.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace mockhub::core {
namespace {
using nlohmann::json;
using kind = packed_view::kind;

constexpr std::size_t container_header = 9;  // tag, u32 count, u32 payload bytes

void put_u32(std::vector<unsigned char>& out, std::size_t v) {
  if (v > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("packed_json: a node over 4 GiB");
  const auto u = static_cast<std::uint32_t>(v);
  const auto* b = reinterpret_cast<const unsigned char*>(&u);
  out.insert(out.end(), b, b + 4);
}

void patch_u32(std::vector<unsigned char>& out, std::size_t at, std::size_t v) {
  if (v > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("packed_json: a node over 4 GiB");
  const auto u = static_cast<std::uint32_t>(v);
  std::memcpy(out.data() + at, &u, 4);
}

template <class T>
void put_scalar(std::vector<unsigned char>& out, kind k, T v) {
  out.push_back(static_cast<unsigned char>(k));
  const auto* b = reinterpret_cast<const unsigned char*>(&v);
  out.insert(out.end(), b, b + sizeof v);
}

void put_bytes(std::vector<unsigned char>& out, std::string_view s) {
  put_u32(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void pack(std::vector<unsigned char>& out, const json& j) {
  switch (j.type()) {
    case json::value_t::boolean: out.push_back(static_cast<unsigned char>(j.get<bool>() ? kind::boolean_true : kind::boolean_false)); return;
    case json::value_t::number_integer: put_scalar(out, kind::integer, j.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: put_scalar(out, kind::unsigned_integer, j.get<std::uint64_t>()); return;
    case json::value_t::number_float: put_scalar(out, kind::floating, j.get<double>()); return;
    case json::value_t::string:
      out.push_back(static_cast<unsigned char>(kind::string));
      put_bytes(out, j.get_ref<const std::string&>());
      return;
    case json::value_t::array:
    case json::value_t::object: {
      const bool object = j.is_object();
      out.push_back(static_cast<unsigned char>(object ? kind::object : kind::array));
      put_u32(out, j.size());
      const std::size_t size_at = out.size();
      put_u32(out, 0);
      if (object) {
        for (const auto& [key, value] : j.items()) {
          put_bytes(out, key);
          pack(out, value);
        }
      } else {
        for (const auto& value : j) pack(out, value);
      }
      patch_u32(out, size_at, out.size() - size_at - 4);
      return;
    }
    default: out.push_back(static_cast<unsigned char>(kind::null)); return;  // null, discarded, binary
  }
}

std::unique_ptr<unsigned char[]> owned_copy(const unsigned char* p, std::size_t n) {
  auto data = std::make_unique_for_overwrite<unsigned char[]>(n);
  std::memcpy(data.get(), p, n);
  return data;
}

std::unique_ptr<unsigned char[]> packed_buffer(const json& j) {
  std::vector<unsigned char> out;
  pack(out, j);
  return owned_copy(out.data(), out.size());
}

template <class T>
T read(const unsigned char* q) noexcept {
  T v;
  std::memcpy(&v, q, sizeof v);
  return v;
}

}  // namespace

std::uint32_t packed_view::read_u32(const unsigned char* q) noexcept { return read<std::uint32_t>(q); }
std::int64_t packed_view::as_int() const noexcept { return read<std::int64_t>(p_ + 1); }
std::uint64_t packed_view::as_uint() const noexcept { return read<std::uint64_t>(p_ + 1); }
double packed_view::as_double() const noexcept { return read<double>(p_ + 1); }

double packed_view::as_number() const noexcept {
  switch (type()) {
    case kind::integer: return static_cast<double>(as_int());
    case kind::unsigned_integer: return static_cast<double>(as_uint());
    case kind::floating: return as_double();
    default: return 0;
  }
}

std::string_view packed_view::as_string() const noexcept {
  return {reinterpret_cast<const char*>(p_ + 5), read_u32(p_ + 1)};
}

std::size_t packed_view::size() const noexcept { return (is_object() || is_array()) ? count() : 0; }

std::size_t packed_view::byte_size() const noexcept {
  switch (type()) {
    case kind::null:
    case kind::boolean_false:
    case kind::boolean_true: return 1;
    case kind::integer:
    case kind::unsigned_integer:
    case kind::floating: return 9;
    case kind::string: return 5 + read_u32(p_ + 1);
    case kind::array:
    case kind::object: return container_header + read_u32(p_ + 5);
  }
  return 1;
}

packed_view packed_view::find(std::string_view key) const noexcept {
  if (!is_object()) return {};
  const unsigned char* q = p_ + container_header;
  for (std::uint32_t i = 0, n = count(); i < n; ++i) {
    const std::uint32_t len = read_u32(q);
    const packed_view value(q + 4 + len);
    // Most members differ in length or first byte: only the rest goes to memcmp.
    if (len == key.size() && (len == 0 || (q[4] == static_cast<unsigned char>(key[0]) &&
                                           std::memcmp(q + 5, key.data() + 1, len - 1) == 0)))
      return value;
    q = value.p_ + value.byte_size();
  }
  return {};
}

json packed_view::to_json() const {
  if (!p_) return nullptr;
  switch (type()) {
    case kind::null: return nullptr;
    case kind::boolean_false: return false;
    case kind::boolean_true: return true;
    case kind::integer: return as_int();
    case kind::unsigned_integer: return as_uint();
    case kind::floating: return as_double();
    case kind::string: return std::string(as_string());
    case kind::array: {
      json a = json::array();
      a.get_ref<json::array_t&>().reserve(count());
      for_each_element([&](packed_view v) { a.push_back(v.to_json()); });
      return a;
    }
    case kind::object: {
      json o = json::object();
      auto& members = o.get_ref<json::object_t&>();
      // Members come in key order: each insert goes at the end, in constant time.
      for_each_member([&](std::string_view k, packed_view v) { members.emplace_hint(members.end(), std::string(k), v.to_json()); });
      return o;
    }
  }
  return nullptr;
}

namespace {

// A string as nlohmann's dump writes it: printable ASCII without '"' or '\\' is copied; anything
// else (escapes, UTF-8, invalid bytes replaced) goes through nlohmann's own serializer.
void dump_string(std::string& out, std::string_view s) {
  bool plain = true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += '"';
    out.append(s);
    out += '"';
  } else {
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

}  // namespace

void packed_view::dump_to(std::string& out) const {
  if (!p_) {
    out += "null";
    return;
  }
  switch (type()) {
    case kind::null: out += "null"; return;
    case kind::boolean_false: out += "false"; return;
    case kind::boolean_true: out += "true"; return;
    case kind::integer: out += std::to_string(as_int()); return;
    case kind::unsigned_integer: out += std::to_string(as_uint()); return;
    case kind::floating: out += json(as_double()).dump(); return;  // nlohmann's shortest round-trip form
    case kind::string: dump_string(out, as_string()); return;
    case kind::array: {
      out += '[';
      bool first = true;
      for_each_element([&](packed_view v) {
        if (!first) out += ',';
        first = false;
        v.dump_to(out);
      });
      out += ']';
      return;
    }
    case kind::object: {
      out += '{';
      bool first = true;
      for_each_member([&](std::string_view k, packed_view v) {
        if (!first) out += ',';
        first = false;
        dump_string(out, k);
        out += ':';
        v.dump_to(out);
      });
      out += '}';
      return;
    }
  }
}

packed_json::packed_json() : packed_json(json::object()) {}
packed_json::packed_json(const json& j) : data_(packed_buffer(j)) {}
packed_json::packed_json(const packed_json& other) : data_(owned_copy(other.data_.get(), other.byte_size())) {}

packed_json& packed_json::operator=(const packed_json& other) {
  if (this != &other) data_ = owned_copy(other.data_.get(), other.byte_size());
  return *this;
}

bool packed_json::overwrite_string(std::string_view key, std::string_view value) noexcept {
  const packed_view root = view();
  if (!root.is_object()) return false;
  const packed_view v = root.find(key);
  if (!v.is_string() || v.as_string().size() != value.size()) return false;
  const auto offset = static_cast<std::size_t>(v.data() - data_.get());
  std::memcpy(data_.get() + offset + 5, value.data(), value.size());  // kind byte, u32 length, bytes
  return true;
}

void packed_json::set_members(std::span<const member_change> changes) {
  const packed_view root = view();
  if (!root.is_object()) throw std::logic_error("packed_json::set_members on a document that is not an object");

  // A new value of the same packed size as the old one (the same value, a timestamp moving on,
  // a version + 1) is written over it in place; only the rest rebuilds the buffer.
  thread_local std::vector<unsigned char> packed_value;
  std::vector<member_change> rest;
  for (const auto& change : changes) {
    const packed_view old = root.find(change.first);
    const json* value = change.second;
    if (old.valid() && value) {
      packed_value.clear();
      pack(packed_value, *value);
      if (packed_value.size() == old.byte_size()) {
        std::memcpy(const_cast<unsigned char*>(old.data()), packed_value.data(), packed_value.size());
        continue;
      }
    }
    if (old.valid() || value) rest.push_back(change);
  }
  if (rest.empty()) return;
  std::sort(rest.begin(), rest.end(), [](const member_change& a, const member_change& b) { return a.first < b.first; });

  std::vector<unsigned char> out;
  out.reserve(root.byte_size() + 64);
  out.push_back(static_cast<unsigned char>(kind::object));
  const std::size_t count_at = out.size();
  put_u32(out, 0);
  put_u32(out, 0);
  std::size_t members = 0;
  auto next = rest.begin();
  auto put_new = [&](const member_change& c) {
    if (!c.second) return;  // an erase
    put_bytes(out, c.first);
    pack(out, *c.second);
    ++members;
  };
  root.for_each_member([&](std::string_view key, packed_view value) {
    while (next != rest.end() && next->first < key) put_new(*next++);  // new members before this one
    if (next != rest.end() && next->first == key) {
      put_new(*next++);  // replaced or erased
      return;
    }
    put_bytes(out, key);
    out.insert(out.end(), value.data(), value.data() + value.byte_size());
    ++members;
  });
  while (next != rest.end()) put_new(*next++);
  patch_u32(out, count_at, members);
  patch_u32(out, count_at + 4, out.size() - container_header);
  data_ = owned_copy(out.data(), out.size());
}

}  // namespace mockhub::core
