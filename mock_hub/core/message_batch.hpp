// The framing of `$hub/ctl/out` (mock_hub/broker_plugin/README.md): many QoS 0 messages for
// devices in one publish from the hub to the plugin. The broker link encodes and the plugin
// decodes with this one header, so the two agree byte for byte.
//
// A batch is frames back to back, each: client id length (2 bytes, big-endian), the client id
// (as the device connected with it, not escaped), topic length (2 bytes), the topic, payload
// length (4 bytes), the payload. A method job's requests went out one publish each, and the
// publish (the hub's libmosquitto call, the link's write, the broker's reading and ACL check of
// every packet) was the largest share of the hub's cost per device in bench B1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace mockhub::core::message_batch {

/// A batch is sent as soon as it holds this many bytes (a message bigger than that goes alone).
inline constexpr std::size_t send_at_bytes = 256 * 1024;

/// One message of a batch; it views the batch's bytes.
struct message {
  std::string_view client_id;
  std::string_view topic;
  std::string_view payload;
};

namespace detail {
inline void put(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}
inline bool take(std::string_view& in, int bytes, std::size_t& value) {
  if (in.size() < static_cast<std::size_t>(bytes)) return false;
  value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  in.remove_prefix(static_cast<std::size_t>(bytes));
  return true;
}
inline bool take_text(std::string_view& in, int length_bytes, std::string_view& text) {
  std::size_t n = 0;
  if (!take(in, length_bytes, n) || in.size() < n) return false;
  text = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}
}  // namespace detail

/// The bytes a message adds to a batch.
inline std::size_t framed_size(const message& m) noexcept {
  return 2 + m.client_id.size() + 2 + m.topic.size() + 4 + m.payload.size();
}

/// Appends `m` to `batch`. False, leaving `batch` unchanged, when it cannot be framed: an empty
/// client id or topic, either over 65,535 bytes, or a payload over 4 GiB.
inline bool append(std::string& batch, const message& m) {
  constexpr std::size_t max16 = std::numeric_limits<std::uint16_t>::max();
  if (m.client_id.empty() || m.topic.empty() || m.client_id.size() > max16 || m.topic.size() > max16 ||
      m.payload.size() > std::numeric_limits<std::uint32_t>::max())
    return false;
  batch.reserve(batch.size() + framed_size(m));
  detail::put(batch, m.client_id.size(), 2);
  batch.append(m.client_id);
  detail::put(batch, m.topic.size(), 2);
  batch.append(m.topic);
  detail::put(batch, m.payload.size(), 4);
  batch.append(m.payload);
  return true;
}

/// Checks the whole batch, then calls `visit(const message&)` for each message in order. False,
/// visiting nothing, when the batch is malformed: a truncated frame, or an empty client id or topic.
template <class Visit>
bool for_each(std::string_view batch, Visit&& visit) {
  for (int pass = 0; pass < 2; ++pass) {
    std::string_view in = batch;
    while (!in.empty()) {
      message m;
      if (!detail::take_text(in, 2, m.client_id) || !detail::take_text(in, 2, m.topic) ||
          !detail::take_text(in, 4, m.payload) || m.client_id.empty() || m.topic.empty())
        return false;  // only ever in the first pass
      if (pass == 1) visit(static_cast<const message&>(m));
    }
  }
  return true;
}

}  // namespace mockhub::core::message_batch
