#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mock_hub/core/message_batch.hpp"

namespace batch = mockhub::core::message_batch;

namespace {
struct seen {
  std::string client_id, topic, payload;
  bool operator==(const seen&) const = default;
};
std::vector<seen> read_all(std::string_view b, bool* ok = nullptr) {
  std::vector<seen> out;
  const bool framed = batch::for_each(b, [&out](const batch::message& m) {
    out.push_back({std::string(m.client_id), std::string(m.topic), std::string(m.payload)});
  });
  if (ok) *ok = framed;
  return out;
}
}  // namespace

TEST_CASE("A batch frames each message as lengths and bytes, and reads back in order", "[message-batch]") {
  std::string b;
  REQUIRE(batch::append(b, {.client_id = "d1", .topic = "t/1", .payload = "{}"}));
  CHECK(b == std::string("\x00\x02" "d1" "\x00\x03" "t/1" "\x00\x00\x00\x02" "{}", 15));
  CHECK(batch::framed_size({.client_id = "d1", .topic = "t/1", .payload = "{}"}) == b.size());

  const std::string binary("\x00\xff\n\"", 4);
  const std::string big(70'000, 'x');  // past 16 bits: the payload length takes four bytes
  REQUIRE(batch::append(b, {.client_id = "dev/mod", .topic = "$iothub/methods/POST/m/?$rid=1", .payload = binary}));
  REQUIRE(batch::append(b, {.client_id = "d3", .topic = "t", .payload = ""}));
  REQUIRE(batch::append(b, {.client_id = "d4", .topic = "t", .payload = big}));
  bool ok = false;
  const auto all = read_all(b, &ok);
  CHECK(ok);
  CHECK(all == std::vector<seen>{{"d1", "t/1", "{}"},
                                 {"dev/mod", "$iothub/methods/POST/m/?$rid=1", binary},
                                 {"d3", "t", ""},
                                 {"d4", "t", big}});
  CHECK(read_all("", &ok).empty());
  CHECK(ok);  // an empty batch is well formed
}

TEST_CASE("A message that cannot be framed is refused and the batch is left as it was", "[message-batch]") {
  std::string b = "kept";
  CHECK_FALSE(batch::append(b, {.client_id = "", .topic = "t", .payload = "p"}));
  CHECK_FALSE(batch::append(b, {.client_id = "d", .topic = "", .payload = "p"}));
  CHECK_FALSE(batch::append(b, {.client_id = std::string(65'536, 'd'), .topic = "t", .payload = "p"}));
  CHECK_FALSE(batch::append(b, {.client_id = "d", .topic = std::string(65'536, 't'), .payload = "p"}));
  CHECK(b == "kept");
  CHECK(batch::append(b = {}, {.client_id = std::string(65'535, 'd'), .topic = "t", .payload = "p"}));
}

TEST_CASE("A malformed batch is refused whole: nothing of it is visited", "[message-batch]") {
  std::string b;
  REQUIRE(batch::append(b, {.client_id = "d1", .topic = "t", .payload = "first"}));
  REQUIRE(batch::append(b, {.client_id = "d2", .topic = "t", .payload = "second"}));
  bool ok = true;
  for (std::size_t cut = 1; cut < b.size(); ++cut) {  // every truncation, including mid-length
    const std::string_view part = std::string_view(b).substr(0, cut);
    if (part.size() == batch::framed_size({.client_id = "d1", .topic = "t", .payload = "first"})) continue;  // one whole frame
    INFO("cut at " << cut);
    CHECK(read_all(part, &ok).empty());
    CHECK_FALSE(ok);
  }
  // An empty client id or topic in a frame.
  CHECK(read_all(std::string("\x00\x00\x00\x01t\x00\x00\x00\x00", 9), &ok).empty());
  CHECK_FALSE(ok);
  CHECK(read_all(std::string("\x00\x01" "d" "\x00\x00\x00\x00\x00\x00", 9), &ok).empty());
  CHECK_FALSE(ok);
}
