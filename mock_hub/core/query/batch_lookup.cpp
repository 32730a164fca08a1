#include "batch_lookup.hpp"

#include <string_view>

namespace mockhub::core::query {
namespace {

using object_t = nlohmann::json::object_t;

// std::string's ordering, compared inline: the library memcmp call costs more than the few
// bytes of a key.
inline bool key_less(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

// A key for the transparent std::less<> of a JSON object.
struct segment_key {
  std::string_view name;
};
inline bool operator<(const std::string& a, segment_key b) { return key_less(a, b.name); }
inline bool operator<(segment_key a, const std::string& b) { return key_less(a.name, b); }

inline void prefetch_value(const nlohmann::json* j) {
  if (const auto* o = j->get_ptr<const object_t*>()) {
    __builtin_prefetch(o);
  } else if (const auto* s = j->get_ptr<const std::string*>()) {
    __builtin_prefetch(s);
  }
}

}  // namespace

const nlohmann::json* lookup(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto& map = object.get_ref<const object_t&>();
  auto it = map.find(segment_key{key});
  return it == map.end() ? nullptr : &it->second;
}

#if defined(__GLIBCXX__)

// The libstdc++ red-black tree: every iterator holds its node (`_M_node`), end()'s node is the
// header whose parent is the root, and a node's value follows its links. This is the same
// lower-bound descent as std::map::find, advanced for all documents in lock-step.
void batch_lookup(const nlohmann::json* const* objects, std::size_t count, const std::string& key,
                  const nlohmann::json** out) {
  using base = std::_Rb_tree_node_base;
  using node = std::_Rb_tree_node<object_t::value_type>;
  const segment_key k{key};
  const base* x[64];       // the node being compared, null when the descent has ended
  const base* y[64];       // the last node not less than the key (the lower bound so far)
  const base* header[64];
  std::size_t active = 0;
  for (std::size_t d = 0; d < count; ++d) {
    out[d] = nullptr;
    header[d] = nullptr;
    x[d] = nullptr;
    if (objects[d] == nullptr || !objects[d]->is_object()) continue;
    const auto& map = objects[d]->get_ref<const object_t&>();
    header[d] = map.end()._M_node;
    y[d] = header[d];
    x[d] = header[d]->_M_parent;
    if (x[d] != nullptr) {
      __builtin_prefetch(x[d]);
      ++active;
    }
  }
  while (active > 0) {
    active = 0;
    for (std::size_t d = 0; d < count; ++d) {
      const base* n = x[d];
      if (n == nullptr) continue;
      if (!(static_cast<const node*>(n)->_M_valptr()->first < k)) {
        y[d] = n;
        n = n->_M_left;
      } else {
        n = n->_M_right;
      }
      x[d] = n;
      if (n != nullptr) {
        __builtin_prefetch(n);
        ++active;
      }
    }
  }
  for (std::size_t d = 0; d < count; ++d) {
    if (header[d] == nullptr || y[d] == header[d]) continue;
    const auto* v = static_cast<const node*>(y[d])->_M_valptr();
    if (k < v->first) continue;
    out[d] = &v->second;
    prefetch_value(out[d]);
  }
}

#else

void batch_lookup(const nlohmann::json* const* objects, std::size_t count, const std::string& key,
                  const nlohmann::json** out) {
  for (std::size_t d = 0; d < count; ++d) {
    out[d] = objects[d] ? lookup(*objects[d], key) : nullptr;
    if (out[d]) prefetch_value(out[d]);
  }
}

#endif

}  // namespace mockhub::core::query
