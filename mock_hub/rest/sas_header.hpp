// cpp-httplib 0.11.4 (Debian's) percent-decodes every request header value as it parses it, so
// the `Authorization` header arrives with `sig=ab+c/d=` where the client sent `sig=ab%2Bc%2Fd%3D`.
// Read as sent, that `+` would decode to a space and the signature would never verify. The
// fields are therefore percent-encoded again the way the SDKs encode them (encodeURIComponent,
// upper-case hex, as Node, C# WebUtility.UrlEncode and Python quote_plus do for these values)
// before the core checks the token. Service tokens scope `sr` to the bare host name, which no
// encoding changes, so the string-to-sign is the one the client signed.
#pragma once

#include <string>
#include <string_view>

namespace mockhub::rest {

/// `SharedAccessSignature k=v&k=v...` with every value percent-encoded again; any other text
/// (another scheme, no fields) is returned unchanged for the core to refuse.
std::string restore_sas_encoding(std::string_view decoded_header);

}  // namespace mockhub::rest
