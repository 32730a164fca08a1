#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include "check_hub_error.hpp"
#include "mock_device_channel.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/time_format.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;
using nlohmann::json;
using trompeloeil::_;
using namespace std::chrono_literals;

namespace {

struct hub_fixture {
  virtual_clock clk;
  id_source ids{3};
  mockhub::testing::mock_device_channel channel;
  hub h{{}, clk, ids, channel};
  std::uint64_t generation = 0;
  // Credential updates are checked in their own test; elsewhere they may happen freely.
  std::unique_ptr<trompeloeil::expectation> allow_identity_changes = NAMED_ALLOW_CALL(channel, identity_changed(_, _));
  void create(const std::string& id) { h.create_or_update_identity(id, {}, std::nullopt); }
  std::uint64_t connect(const std::string& id, bool clean = false, std::optional<time_point> expiry = {}) {
    connection_info info;
    info.generation = ++generation;
    info.clean_session = clean;
    info.token_expiry = expiry;
    h.device_connected(id, info);
    return info.generation;
  }
};

}  // namespace

TEST_CASE_METHOD(hub_fixture, "Identity writes are passed to the channel so the broker admits the right keys",
                 "[core][hub]") {
  device_identity seen;
  REQUIRE_CALL(channel, identity_changed("dev1", trompeloeil::ne(nullptr))).LR_SIDE_EFFECT(seen = *_2);
  const auto& d = h.create_or_update_identity("dev1", {}, std::nullopt);
  CHECK(seen.primary_key == d.primary_key);

  REQUIRE_CALL(channel, identity_changed("dev1", nullptr));
  h.delete_identity("dev1", std::nullopt);
}

TEST_CASE_METHOD(hub_fixture, "Connecting and disconnecting drive connectionState, keyed on the generation",
                 "[core][hub]") {
  create("dev1");
  clk.advance(3s);
  const auto first = connect("dev1");
  CHECK(h.registry().get_twin("dev1")["connectionState"] == "Connected");
  CHECK(h.registry().get_identity("dev1").connection_state_updated_time == clk.now());

  SECTION("a takeover: the new connection is announced before the old one's disconnect") {
    const auto second = connect("dev1");
    h.device_disconnected("dev1", first);
    CHECK(h.sessions().is_connected("dev1"));
    CHECK(h.registry().get_identity("dev1").connection == connection_state::connected);
    h.device_disconnected("dev1", second);
    CHECK(h.registry().get_identity("dev1").connection == connection_state::disconnected);
  }
  SECTION("an announcement for a device deleted meanwhile is ignored") {
    h.device_connected("ghost", {});
    CHECK_FALSE(h.sessions().is_connected("ghost"));
  }
  CHECK(h.registry().connected_device_count() == (h.sessions().is_connected("dev1") ? 1 : 0));
}

TEST_CASE_METHOD(hub_fixture, "A desired change reaches a connected device only when it subscribed to desired patches",
                 "[core][hub]") {
  create("dev1");
  const json patch = {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}};

  SECTION("offline: no notification") {
    FORBID_CALL(channel, send_desired_patch(_, _));
    h.update_twin("dev1", patch, std::nullopt);
  }
  SECTION("connected but not subscribed: no notification") {
    connect("dev1");
    FORBID_CALL(channel, send_desired_patch(_, _));
    h.update_twin("dev1", patch, std::nullopt);
  }
  SECTION("connected and subscribed: the patch plus $version") {
    const auto g = connect("dev1");
    h.device_subscribed("dev1", g, device_subscription::desired_patches);
    REQUIRE_CALL(channel, send_desired_patch("dev1", json{{"building", 43}, {"floor", 3}, {"$version", 2}}));
    h.update_twin("dev1", patch, std::nullopt);
  }
  SECTION("a tags-only change sends nothing") {
    const auto g = connect("dev1");
    h.device_subscribed("dev1", g, device_subscription::desired_patches);
    FORBID_CALL(channel, send_desired_patch(_, _));
    h.update_twin("dev1", {{"tags", {{"building", 43}}}}, std::nullopt);
  }
  SECTION("a replace sends the whole new desired") {
    const auto g = connect("dev1");
    h.device_subscribed("dev1", g, device_subscription::desired_patches);
    REQUIRE_CALL(channel, send_desired_patch("dev1", json{{"mode", "eco"}, {"$version", 2}}));
    h.replace_twin("dev1", {{"properties", {{"desired", {{"mode", "eco"}}}}}}, "*");
  }
}

TEST_CASE_METHOD(hub_fixture, "A persistent session keeps its subscriptions across a reconnect; a clean one does not",
                 "[core][hub]") {
  create("dev1");
  auto g = connect("dev1", false);
  h.device_subscribed("dev1", g, device_subscription::desired_patches);
  h.device_disconnected("dev1", g);
  CHECK_FALSE(h.sessions().is_subscribed("dev1", device_subscription::desired_patches));

  SECTION("clean session 0") {
    connect("dev1", false);
    CHECK(h.sessions().is_subscribed("dev1", device_subscription::desired_patches));
  }
  SECTION("clean session 1") {
    connect("dev1", true);
    CHECK_FALSE(h.sessions().is_subscribed("dev1", device_subscription::desired_patches));
  }
}

TEST_CASE_METHOD(hub_fixture, "Cloud-to-device messages wait for a subscribed device, at most 50, until they expire",
                 "[core][hub][c2d]") {
  create("dev1");
  cloud_to_device_message m;
  m.body = "unlock";
  m.application["door"] = "front";

  SECTION("queued while offline, counted, and delivered when the device subscribes") {
    h.send_cloud_to_device_message("dev1", m);
    h.send_cloud_to_device_message("dev1", m);
    CHECK(h.registry().get_twin("dev1")["cloudToDeviceMessageCount"] == 2);
    const auto g = connect("dev1");
    std::vector<cloud_to_device_message> got;
    REQUIRE_CALL(channel, send_cloud_to_device("dev1", _)).TIMES(2).LR_SIDE_EFFECT(got.push_back(_2));
    h.device_subscribed("dev1", g, device_subscription::cloud_to_device);
    REQUIRE(got.size() == 2);
    CHECK(got[0].body == "unlock");
    CHECK(got[0].to == "/devices/dev1/messages/devicebound");
    CHECK(got[0].application.at("door") == "front");
    CHECK(got[0].expiry == virtual_clock::default_start() + 1h);
    CHECK(got[0].message_id.has_value());
    CHECK(h.registry().get_identity("dev1").cloud_to_device_message_count == 0);
  }
  SECTION("delivered at once to a subscribed device") {
    const auto g = connect("dev1");
    h.device_subscribed("dev1", g, device_subscription::cloud_to_device);
    REQUIRE_CALL(channel, send_cloud_to_device("dev1", _)).WITH(_2.body == "unlock");
    h.send_cloud_to_device_message("dev1", m);
  }
  SECTION("the 51st waiting message is refused with 403004") {
    for (int i = 0; i < 50; ++i) h.send_cloud_to_device_message("dev1", m);
    check_hub_error([&] { h.send_cloud_to_device_message("dev1", m); }, 403004, "'dev1'");
    CHECK(h.registry().get_identity("dev1").cloud_to_device_message_count == 50);
  }
  SECTION("an expired message is never delivered and frees its place") {
    h.send_cloud_to_device_message("dev1", m);  // expires after the default hour
    clk.advance(1h);
    for (int i = 0; i < 50; ++i) h.send_cloud_to_device_message("dev1", m);
    const auto g = connect("dev1");
    REQUIRE_CALL(channel, send_cloud_to_device("dev1", _)).TIMES(50);
    h.device_subscribed("dev1", g, device_subscription::cloud_to_device);
  }
  SECTION("purge empties the queue and says how many went") {
    h.send_cloud_to_device_message("dev1", m);
    CHECK(h.purge_cloud_to_device_message_queue("dev1") == 1);
    CHECK(h.registry().get_identity("dev1").cloud_to_device_message_count == 0);
  }
  SECTION("errors: unknown device 404001, a body over 64 KB 413001") {
    check_hub_error([&] { h.send_cloud_to_device_message("ghost", m); }, 404001, "'ghost'");
    check_hub_error([&] { h.purge_cloud_to_device_message_queue("ghost"); }, 404001, "'ghost'");
    m.body.assign(64 * 1024 + 1, 'x');
    check_hub_error([&] { h.send_cloud_to_device_message("dev1", m); }, 413001, "65537 bytes");
    m.body.assign(64 * 1024, 'x');
    h.send_cloud_to_device_message("dev1", m);
  }
}

TEST_CASE_METHOD(hub_fixture, "Disabling, deleting or rolling a key of a connected device disconnects it",
                 "[core][hub]") {
  create("dev1");
  connect("dev1");
  SECTION("disable") {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.create_or_update_identity("dev1", device_identity_request::from_json({{"status", "disabled"}}), "*");
  }
  SECTION("delete") {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.delete_identity("dev1", std::nullopt);
    CHECK_FALSE(h.sessions().is_connected("dev1"));
  }
  SECTION("primary key roll") {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.create_or_update_identity(
        "dev1", device_identity_request::from_json({{"authentication", {{"symmetricKey", {{"primaryKey", ""}}}}}}), "*");
  }
  SECTION("secondary key roll") {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.create_or_update_identity(
        "dev1", device_identity_request::from_json({{"authentication", {{"symmetricKey", {{"secondaryKey", ""}}}}}}), "*");
  }
  SECTION("an update that keeps the keys and the status does not") {
    FORBID_CALL(channel, disconnect(_));
    h.create_or_update_identity("dev1", device_identity_request::from_json({{"statusReason", "maintenance"}}), "*");
  }
}

TEST_CASE_METHOD(hub_fixture, "A device whose SAS token expires is disconnected when the clock gets there",
                 "[core][hub]") {
  create("dev1");
  connect("dev1", false, clk.now() + 1h);
  {
    FORBID_CALL(channel, disconnect(_));
    clk.advance(59min);
  }
  REQUIRE_CALL(channel, disconnect("dev1"));
  clk.advance(1min);

  SECTION("but not when it reconnected with a fresh token before") {
    create("dev2");
    const auto g = connect("dev2", false, clk.now() + 10min);
    h.device_disconnected("dev2", g);
    connect("dev2", false, clk.now() + 2h);
    FORBID_CALL(channel, disconnect(_));
    clk.advance(1h);
  }
}

TEST_CASE_METHOD(hub_fixture, "The device path reads the twin, writes reported properties and stamps activity",
                 "[core][hub]") {
  create("dev1");
  connect("dev1");
  clk.advance(7s);
  CHECK(h.device_update_reported("dev1", {{"firmware", "1.0"}}) == 2);
  const json view = h.device_get_twin("dev1");
  CHECK(view["reported"]["firmware"] == "1.0");
  CHECK(view["reported"]["$version"] == 2);
  CHECK(view["desired"]["$version"] == 1);
  CHECK(h.registry().get_twin("dev1")["lastActivityTime"] == format_time(clk.now()));
  check_hub_error([&] { h.device_get_twin("ghost"); }, 404001, "'ghost'");
}

TEST_CASE_METHOD(hub_fixture, "Telemetry is numbered, buffered per device and handed to listeners", "[core][hub]") {
  create("dev1");
  std::vector<std::uint64_t> heard;
  const auto l = h.telemetry().add_listener([&](const device_to_cloud_message& m) { heard.push_back(m.sequence_number); });
  device_to_cloud_message m;
  m.device_id = "dev1";
  m.body = R"({"temperature":21.5})";
  m.system.message_id = "msg-1";
  CHECK(h.device_sent_telemetry(m) == 1);
  CHECK(h.device_sent_telemetry(m) == 2);
  h.telemetry().remove_listener(l);
  h.device_sent_telemetry(m);
  CHECK(heard == std::vector<std::uint64_t>{1, 2});
  const auto stored = h.telemetry().messages("dev1");
  REQUIRE(stored.size() == 3);
  CHECK(stored[0].enqueued_time == clk.now());
  CHECK(json(stored[0])["systemProperties"]["messageId"] == "msg-1");
  m.device_id = "ghost";
  check_hub_error([&] { h.device_sent_telemetry(m); }, 404001, "'ghost'");
}

TEST_CASE("The telemetry buffer keeps the newest messages of each device", "[core][hub]") {
  telemetry_log log(2);
  for (int i = 0; i < 5; ++i) {
    device_to_cloud_message m;
    m.device_id = "dev1";
    m.body = std::to_string(i);
    log.append(m);
  }
  const auto kept = log.messages("dev1");
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].body == "3");
  CHECK(kept[1].body == "4");
  CHECK(log.total() == 5);
}

TEST_CASE_METHOD(hub_fixture, "A resync after the broker came back makes the hub's view of connections right again",
                 "[core][hub]") {
  create("dev1");
  create("dev2");
  connect("dev1");
  device_session live;
  live.connection.generation = 1;  // the restarted broker numbers connections afresh
  live.subscriptions = static_cast<std::uint8_t>(device_subscription::desired_patches);
  h.connections_resynced({{"dev2", live}});
  CHECK_FALSE(h.sessions().is_connected("dev1"));
  CHECK(h.registry().get_identity("dev1").connection == connection_state::disconnected);
  CHECK(h.registry().get_identity("dev2").connection == connection_state::connected);
  CHECK(h.sessions().is_subscribed("dev2", device_subscription::desired_patches));
  h.device_disconnected("dev2", 1);
  CHECK_FALSE(h.sessions().is_connected("dev2"));
}

TEST_CASE_METHOD(hub_fixture, "Reset deletes every device and job, ending calls in flight, and keeps policies and the clock",
                 "[core][hub][reset]") {
  hub_options two_jobs;
  two_jobs.jobs.max_concurrent_jobs = 2;
  hub hb{two_jobs, clk, ids, channel};
  hb.create_or_update_identity("dev1", {}, std::nullopt);
  hb.create_or_update_identity("dev2", {}, std::nullopt);
  connection_info info;
  info.generation = 1;
  hb.device_connected("dev1", info);
  hb.device_subscribed("dev1", 1, device_subscription::methods);
  ALLOW_CALL(channel, send_method_request("dev1", "lockDoor", _, _));
  // A method job with a call in flight to dev1, and a twin job due in an hour.
  hb.jobs().create_scheduled_job(job_request::from_json(
      {{"type", "scheduleDeviceMethod"}, {"queryCondition", "deviceId = 'dev1'"},
       {"cloudToDeviceMethod", {{"methodName", "lockDoor"}, {"responseTimeoutInSeconds", 30}}}},
      "now", clk.now()));
  hb.jobs().create_scheduled_job(job_request::from_json(
      {{"type", "scheduleUpdateTwin"}, {"queryCondition", "*"}, {"updateTwin", {{"etag", "*"}, {"tags", {{"a", 1}}}}},
       {"startTime", format_time(clk.now() + 1h)}},
      "later", clk.now()));
  clk.advance(0s);
  REQUIRE(hb.jobs().get_scheduled_job("now").status == job_status::running);
  const auto owner_key = hb.policies().find("iothubowner")->primary_key;
  const auto before = clk.now();

  REQUIRE(hb.query("SELECT * FROM devices.jobs").items.size() == 1);  // dev1's record of "now"
  {
    REQUIRE_CALL(channel, disconnect("dev1"));  // only the connected device
    hb.reset();
  }
  CHECK(hb.query("SELECT * FROM devices.jobs").items.empty());
  CHECK(hb.query("SELECT * FROM devices").items.empty());
  CHECK(hb.registry().find("dev1") == nullptr);
  CHECK(hb.registry().find("dev2") == nullptr);
  CHECK_FALSE(hb.sessions().is_connected("dev1"));
  CHECK(hb.jobs().active_jobs() == 0);
  CHECK(hb.jobs().query_scheduled_jobs(std::nullopt, std::nullopt).empty());
  check_hub_error([&] { hb.jobs().get_scheduled_job("later"); }, 404002, "later");
  CHECK(hb.policies().find("iothubowner")->primary_key == owner_key);
  CHECK(clk.now() == before);

  // Nothing of the old jobs fires later; their ids can be used again.
  hb.create_or_update_identity("dev1", {}, std::nullopt);
  clk.advance(2h);
  CHECK_FALSE(hb.registry().get_twin("dev1").value("tags", json::object()).contains("a"));
  hb.jobs().create_scheduled_job(job_request::from_json(
      {{"type", "scheduleUpdateTwin"}, {"queryCondition", "*"}, {"updateTwin", {{"etag", "*"}, {"tags", {{"b", 2}}}}}},
      "later", clk.now()));
  clk.advance(0s);
  CHECK(hb.jobs().get_scheduled_job("later").status == job_status::completed);
  CHECK(hb.registry().get_twin("dev1")["tags"]["b"] == 2);
}

TEST_CASE_METHOD(hub_fixture, "A disconnect fault goes to the channel for a known device, connected or not",
                 "[core][hub][reset]") {
  create("dev1");
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.disconnect_device("dev1");  // offline as far as the hub knows: the broker may know better
  }
  connect("dev1");
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    h.disconnect_device("dev1");
  }
  FORBID_CALL(channel, disconnect(_));
  check_hub_error([&] { h.disconnect_device("ghost"); }, 404001, "ghost");
}
