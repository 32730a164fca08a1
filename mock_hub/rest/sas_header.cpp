#include "sas_header.hpp"

#include "mock_hub/core/encoding.hpp"

namespace mockhub::rest {

std::string restore_sas_encoding(std::string_view decoded_header) {
  constexpr std::string_view scheme = "SharedAccessSignature ";
  if (decoded_header.substr(0, scheme.size()) != scheme) return std::string(decoded_header);
  std::string out(scheme);
  std::string_view fields = decoded_header.substr(scheme.size());
  for (bool first = true;; first = false) {
    const auto amp = fields.find('&');
    const std::string_view field = fields.substr(0, amp);
    if (!first) out += '&';
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) {
      out += field;
    } else {
      out += field.substr(0, eq + 1);
      out += core::url_encode(field.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    fields.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace mockhub::rest
