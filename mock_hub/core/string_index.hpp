// An index from string keys to elements that live elsewhere (in a std::map's nodes, which never
// move), as one flat open-addressed table.
//
// The hub finds a device by id three times per device operation of a method job (registry,
// session, registry again), in tables of 100,000 devices. A node-based std::unordered_map costs
// a cache miss for the bucket, one for the node before the wanted one (libstdc++ buckets point
// there) and one for the node; this table costs one for the slot, which holds the hash and the
// element pointer, and then the element itself, which the caller reads anyway (bench/README.md,
// B1 round 7). Linear probing, at most 3/4 full; an erase shifts the entries after it back, so
// there are no tombstones and lookups never slow down with churn.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace mockhub::core {

/// The key of a std::map / std::pair element: its `first`.
struct key_is_first {
  template <class Pair>
  std::string_view operator()(const Pair& p) const noexcept {
    return p.first;
  }
};

/// `KeyOf(element)` gives an element's key. An indexed element must stay where it is, alive and
/// with the same key, until it is erased from the index (the index reads keys to compare them).
template <class T, class KeyOf = key_is_first, class Hash = std::hash<std::string_view>>
class string_index {
 public:
  /// The element with this key, or nullptr.
  T* find(std::string_view key) noexcept { return find_element(key); }
  const T* find(std::string_view key) const noexcept { return find_element(key); }

  /// Indexes `element` under its key, replacing the element indexed there before, if any.
  void insert_or_assign(T& element) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const std::string_view key = KeyOf{}(element);
    const std::size_t h = Hash{}(key);
    slot& s = slots_[position(key, h)];
    if (!s.element) ++size_;
    s = {h, &element};
  }

  /// Removes the key; false when it was not indexed.
  bool erase(std::string_view key) noexcept {
    if (size_ == 0) return false;
    std::size_t hole = position(key, Hash{}(key));
    if (!slots_[hole].element) return false;
    // Backward shift: an entry after the hole moves into it unless its home slot lies after the
    // hole (cyclically), where a lookup starting at home would never pass the hole.
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t next = (hole + 1) & mask; slots_[next].element; next = (next + 1) & mask) {
      const std::size_t home = slots_[next].hash & mask;
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = {};
    --size_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct slot {
    std::size_t hash = 0;
    T* element = nullptr;  // nullptr: empty
  };

  /// The slot holding `key` (hashed `h`), or the empty slot that ends its probe. Needs slots.
  std::size_t position(std::string_view key, std::size_t h) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const slot& s = slots_[i];
      if (!s.element || (s.hash == h && KeyOf{}(*s.element) == key)) return i;
    }
  }

  T* find_element(std::string_view key) const noexcept {
    return size_ == 0 ? nullptr : slots_[position(key, Hash{}(key))].element;
  }

  void grow() {
    std::vector<slot> old = std::exchange(slots_, std::vector<slot>(slots_.empty() ? 16 : slots_.size() * 2));
    const std::size_t mask = slots_.size() - 1;
    for (const slot& s : old) {
      if (!s.element) continue;
      std::size_t i = s.hash & mask;
      while (slots_[i].element) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;  // empty, or a power of two in size
  std::size_t size_ = 0;
};

}  // namespace mockhub::core
