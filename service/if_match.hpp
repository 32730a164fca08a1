// The version a write applies to (the `If-Match` header): an entity's etag, so that the write
// fails with 412 PreconditionFailed (412001) when someone changed it meanwhile, or any version.
#pragma once

#include <string>

namespace mockhub::service {

class if_match {
 public:
  /// Any version: a forced write (`If-Match: "*"`).
  static if_match any() { return if_match("*"); }
  /// Only this version, e.g. `device.etag` or `twin.etag` as the hub returned it.
  static if_match etag(std::string value) { return if_match(std::move(value)); }

  /// The header value, quoted as the SDKs send it (`"AAAAAAAAAAE="`, `"*"`); an etag already in
  /// quotes is sent as it is.
  std::string header_value() const {
    if (value_.size() >= 2 && value_.front() == '"' && value_.back() == '"') return value_;
    return "\"" + value_ + "\"";
  }
  bool is_any() const noexcept { return value_ == "*"; }
  const std::string& value() const noexcept { return value_; }

 private:
  explicit if_match(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace mockhub::service
