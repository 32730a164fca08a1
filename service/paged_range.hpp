// A query's results, fetched a page at a time as they are walked: each page is one request
// carrying `x-ms-max-item-count` and the previous page's `x-ms-continuation`; the last page is the
// one that comes back without a continuation.
//
//   for (const auto& twin : client.query("SELECT * FROM devices", 100)) ...   // every page
//   auto q = client.query("SELECT * FROM devices", 100);
//   while (auto page = q.next_page()) ...                                      // page by page
//
// Requests happen inside begin(), ++ and next_page(), which therefore throw iothub_error and
// network_error. An input range: walk it once; the range and its iterators share one cursor.
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::service {

namespace detail {
/// One page as it came off the wire.
struct raw_page {
  std::vector<nlohmann::json> items;
  /// `x-ms-item-type`: "twin", "deviceJob", "jobResponse" or "raw".
  std::string item_type;
  /// `x-ms-continuation`; empty on the last page.
  std::string continuation;
};
/// Fetches the page after `continuation` (empty: the first page).
using page_fetcher = std::function<raw_page(const std::string& continuation)>;
}  // namespace detail

template <class T>
class paged_range {
  struct cursor {
    detail::page_fetcher fetch;
    std::string continuation;
    bool started = false;
    bool done = false;
    std::vector<T> items;
    std::size_t position = 0;
    std::size_t pages = 0;
    std::string item_type;

    void fetch_page() {
      detail::raw_page page = fetch(continuation);
      started = true;
      ++pages;
      item_type = std::move(page.item_type);
      continuation = std::move(page.continuation);
      done = continuation.empty();
      items.clear();
      items.reserve(page.items.size());
      for (auto& j : page.items) {
        if constexpr (std::is_same_v<T, nlohmann::json>) items.push_back(std::move(j));
        else items.push_back(j.template get<T>());
      }
      position = 0;
    }
    // Fetches pages until an item is at hand or the last page is used up.
    void settle() {
      while (position >= items.size() && !(started && done)) fetch_page();
    }
  };

 public:
  explicit paged_range(detail::page_fetcher fetch) : cursor_(std::make_shared<cursor>()) { cursor_->fetch = std::move(fetch); }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    iterator() = default;
    explicit iterator(std::shared_ptr<cursor> c) : cursor_(std::move(c)) { cursor_->settle(); }

    reference operator*() const { return cursor_->items[cursor_->position]; }
    pointer operator->() const { return &cursor_->items[cursor_->position]; }
    iterator& operator++() {
      ++cursor_->position;
      cursor_->settle();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) {
      return !it.cursor_ || it.cursor_->position >= it.cursor_->items.size();
    }

   private:
    std::shared_ptr<cursor> cursor_;
  };

  /// Fetches the first page (if not yet fetched) and points at the first item not yet walked.
  iterator begin() { return iterator(cursor_); }
  std::default_sentinel_t end() const noexcept { return {}; }

  /// The next page's items; nullopt once the last page has been returned. The first call always
  /// returns a page, possibly empty.
  std::optional<std::vector<T>> next_page() {
    if (cursor_->started && cursor_->done) return std::nullopt;
    cursor_->fetch_page();
    std::vector<T> out = std::move(cursor_->items);
    cursor_->items.clear();
    cursor_->position = 0;
    return out;
  }

  /// Every item not yet walked (fetching every remaining page).
  std::vector<T> to_vector() {
    std::vector<T> out;
    for (auto it = begin(); it != end(); ++it) out.push_back(*it);
    return out;
  }

  /// Pages fetched so far (requests sent).
  std::size_t pages_fetched() const noexcept { return cursor_->pages; }
  /// Whether another request would be needed after the items at hand.
  bool has_more_pages() const noexcept { return !cursor_->started || !cursor_->done; }
  /// `x-ms-item-type` of the last page fetched.
  const std::string& item_type() const noexcept { return cursor_->item_type; }

 private:
  std::shared_ptr<cursor> cursor_;
};

}  // namespace mockhub::service
