// A JSON document packed into one contiguous buffer: how the registry holds its twins.
//
// Why (bench/README.md, B4 and B3): a twin held as an nlohmann::json tree costs about 7x its JSON
// text (a 16-byte value per node, a std::map node with its key string per object member, each a
// separate allocation), and a query over 100,000 twins spends its time chasing those nodes
// through memory. Packed, a twin costs about its JSON size in one allocation, and a path lookup
// reads consecutive bytes.
//
// Layout (host byte order; the buffer never leaves the process). A node is a tag byte, then:
//   null, false, true        nothing
//   integer, unsigned, float 8 bytes (std::int64_t, std::uint64_t, double)
//   string                   u32 length, the bytes
//   array                    u32 count, u32 payload bytes, the elements
//   object                   u32 count, u32 payload bytes, per member: u32 key length, key bytes, value node
// Object members keep nlohmann::json's order (ascending by key bytes), so packing and unpacking
// round-trip exactly: to_json(packed(j)) == j, numbers keeping their integer/unsigned/float kind.
// A node's size is known from its header, so a lookup skips a member's value without reading it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace mockhub::core {

/// A read-only view of one node of a packed document (or of nothing: `!valid()`, e.g. a missing
/// member). Cheap to copy; valid while the packed_json it views is alive and unchanged.
class packed_view {
 public:
  enum class kind : std::uint8_t { null, boolean_false, boolean_true, integer, unsigned_integer, floating, string, array, object };

  packed_view() = default;
  explicit packed_view(const unsigned char* node) noexcept : p_(node) {}

  bool valid() const noexcept { return p_ != nullptr; }
  kind type() const noexcept { return static_cast<kind>(*p_); }
  bool is_object() const noexcept { return p_ && type() == kind::object; }
  bool is_array() const noexcept { return p_ && type() == kind::array; }
  bool is_string() const noexcept { return p_ && type() == kind::string; }

  bool as_bool() const noexcept { return type() == kind::boolean_true; }
  std::int64_t as_int() const noexcept;
  std::uint64_t as_uint() const noexcept;
  double as_double() const noexcept;
  /// Any number as a double (integers converted).
  double as_number() const noexcept;
  std::string_view as_string() const noexcept;

  /// Members of an object or elements of an array; 0 for anything else.
  std::size_t size() const noexcept;
  /// The bytes of this node, header included.
  std::size_t byte_size() const noexcept;

  /// The member `key` of this object; an invalid view when this is not an object or has no such member.
  packed_view find(std::string_view key) const noexcept;

  /// Calls f(key, value) for each member of an object, in order.
  template <class F>
  void for_each_member(F&& f) const {
    if (!is_object()) return;
    const unsigned char* q = p_ + 9;
    for (std::uint32_t i = 0, n = count(); i < n; ++i) {
      const std::uint32_t len = read_u32(q);
      const std::string_view key(reinterpret_cast<const char*>(q + 4), len);
      const packed_view value(q + 4 + len);
      f(key, value);
      q = value.p_ + value.byte_size();
    }
  }
  /// Calls f(value) for each element of an array, in order.
  template <class F>
  void for_each_element(F&& f) const {
    if (!is_array()) return;
    const unsigned char* q = p_ + 9;
    for (std::uint32_t i = 0, n = count(); i < n; ++i) {
      const packed_view value(q);
      f(value);
      q += value.byte_size();
    }
  }

  /// This node as a JSON value (a deep copy); null for an invalid view.
  nlohmann::json to_json() const;
  /// Appends this node as compact JSON text to `out`: exactly what
  /// `to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)` gives, without
  /// building the JSON value (a query page goes out as text this way). "null" for an invalid view.
  void dump_to(std::string& out) const;

  const unsigned char* data() const noexcept { return p_; }

 private:
  static std::uint32_t read_u32(const unsigned char* q) noexcept;
  std::uint32_t count() const noexcept { return read_u32(p_ + 1); }

  const unsigned char* p_ = nullptr;
};

/// An owned packed document (see the layout above); an empty object by default.
class packed_json {
 public:
  packed_json();
  explicit packed_json(const nlohmann::json& j);
  packed_json(const packed_json& other);
  packed_json& operator=(const packed_json& other);
  packed_json(packed_json&&) noexcept = default;
  packed_json& operator=(packed_json&&) noexcept = default;

  packed_view view() const noexcept { return packed_view(data_.get()); }
  nlohmann::json to_json() const { return view().to_json(); }
  std::size_t byte_size() const noexcept { return view().byte_size(); }

  /// One change to a top-level member: set to `*value`, or erase it when `value` is null.
  using member_change = std::pair<std::string_view, const nlohmann::json*>;
  /// Applies `changes` (distinct keys) to the top-level members of this object document: every
  /// other member's bytes are copied as they are, so the cost is one copy of the buffer and the
  /// packing of the new values, not a rebuild of the document. A value whose packed size is the
  /// old one's (the same value, a string of the same length, any 64-bit number) is written over
  /// the old bytes in place, without a copy. Throws std::logic_error when this is not an object.
  void set_members(std::span<const member_change> changes);
  /// Writes `value` over the top-level member `key` when that member is a string of the same
  /// length (a timestamp moving on), in place; false, changing nothing, otherwise.
  bool overwrite_string(std::string_view key, std::string_view value) noexcept;

 private:
  std::unique_ptr<unsigned char[]> data_;
};

}  // namespace mockhub::core
