// `mockhub device|twin|invoke-device-method|query` run as processes against a hub in this process.
#include <catch2/catch.hpp>

#include "admin_process.hpp"

using namespace mockhub;
using nlohmann::json;

namespace {

const std::string key1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string key2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

}  // namespace

TEST_CASE("device create show list and delete print what the REST API returned", "[admin][device]") {
  test::admin_fixture f;

  const auto created = f.run({"device", "create", "-d", "lock1", "--primary-key", key1, "--secondary-key", key2});
  REQUIRE(created.exit_code == 0);
  CHECK(created.err.empty());
  const json document = f.client->registry().get_device("lock1").document;
  CHECK(created.json() == document);
  CHECK(document["deviceId"] == "lock1");
  CHECK(document["status"] == "enabled");
  CHECK(document["authentication"]["type"] == "sas");
  CHECK(document["authentication"]["symmetricKey"] == json{{"primaryKey", key1}, {"secondaryKey", key2}});

  SECTION("show") {
    const auto shown = f.run({"device", "show", "--device-id", "lock1"});
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.json() == document);
  }
  SECTION("list, and --top") {
    REQUIRE(f.run({"device", "create", "-d", "lock2", "--status", "disabled"}).exit_code == 0);
    const auto listed = f.run({"device", "list"});
    REQUIRE(listed.exit_code == 0);
    REQUIRE(listed.json().size() == 2);
    CHECK(listed.json()[0] == document);
    CHECK(listed.json()[1]["deviceId"] == "lock2");
    CHECK(listed.json()[1]["status"] == "disabled");
    CHECK(f.run({"device", "list", "--top", "1"}).json().size() == 1);
  }
  SECTION("table") {
    const auto shown = f.run({"device", "show", "-d", "lock1", "-o", "table"});
    REQUIRE(shown.exit_code == 0);
    const std::string etag = document["etag"];
    const std::string last = document["lastActivityTime"];
    CHECK(shown.out ==
          "DeviceId  Status   ConnectionState  Authentication  C2DMessages  LastActivityTime" + std::string(last.size() - 16, ' ') +
              "  Etag\n"
              "--------  -------  ---------------  --------------  -----------  " + std::string(last.size(), '-') + "  " +
              std::string(std::max<std::size_t>(4, etag.size()), '-') + "\n"
              "lock1     enabled  Disconnected     sas             0            " + last + "  " + etag + "\n");
  }
  SECTION("delete, then show is 404001") {
    const auto deleted = f.run({"device", "delete", "-d", "lock1"});
    REQUIRE(deleted.exit_code == 0);
    CHECK(deleted.out.empty());
    const auto shown = f.run({"device", "show", "-d", "lock1"});
    CHECK(shown.exit_code == 1);
    CHECK(shown.out.empty());
    CHECK(shown.err == "error: 404 404001 DeviceNotFound: Device 'lock1' is not registered in this hub.\n");
  }
  SECTION("delete with a stale etag is 412001") {
    const auto deleted = f.run({"device", "delete", "-d", "lock1", "--etag", "c3RhbGU="});
    CHECK(deleted.exit_code == 1);
    CHECK(deleted.err.starts_with("error: 412 412001 PreconditionFailed: "));
    CHECK(f.client->registry().list_devices().size() == 1);
  }
  SECTION("creating it again is 409001") {
    const auto again = f.run({"device", "create", "-d", "lock1"});
    CHECK(again.exit_code == 1);
    CHECK(again.err == "error: 409 409001 DeviceAlreadyExists: A device with ID 'lock1' is already registered.\n");
  }
}

TEST_CASE("twin show and update - stale etag 412001 - bad JSON exit 2", "[admin][twin]") {
  test::admin_fixture f;
  f.register_device("lock1");

  const auto updated = f.run({"twin", "update", "-d", "lock1", "--desired", R"({"floor":3})", "--tags", R"({"building":43})"});
  REQUIRE(updated.exit_code == 0);
  const json twin = f.client->twins().get_twin("lock1").document;
  CHECK(updated.json() == twin);
  CHECK(twin["tags"] == json{{"building", 43}});
  CHECK(twin["properties"]["desired"]["floor"] == 3);

  SECTION("show") {
    const auto shown = f.run({"twin", "show", "-d", "lock1"});
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.json() == twin);
  }
  SECTION("the twin's etag updates; a stale one is 412001") {
    const std::string etag = twin["etag"];
    REQUIRE(f.run({"twin", "update", "-d", "lock1", "--tags", R"({"room":2})", "--etag", etag}).exit_code == 0);
    const auto stale = f.run({"twin", "update", "-d", "lock1", "--tags", R"({"room":1})", "--etag", etag});
    CHECK(stale.exit_code == 1);
    CHECK(stale.err.starts_with("error: 412 412001 PreconditionFailed: "));
    CHECK(f.client->twins().get_twin("lock1").tags == json{{"building", 43}, {"room", 2}});
  }
  SECTION("bad JSON names the option, exit 2, nothing sent") {
    const auto bad = f.run({"twin", "update", "-d", "lock1", "--desired", "{floor:3"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err == "error: --desired: not valid JSON: {floor:3\n");
    CHECK(f.client->twins().get_twin("lock1").version == twin["version"].get<std::int64_t>());
  }
  SECTION("nothing to update is exit 2") {
    const auto none = f.run({"twin", "update", "-d", "lock1"});
    CHECK(none.exit_code == 2);
    CHECK(none.err == "error: twin update: give --desired, --tags or both\n");
  }
  SECTION("unknown device is 404001") {
    const auto shown = f.run({"twin", "show", "-d", "ghost"});
    CHECK(shown.exit_code == 1);
    CHECK(shown.err == "error: 404 404001 DeviceNotFound: Device 'ghost' is not registered in this hub.\n");
  }
}

TEST_CASE("invoke-device-method prints the device's answer - an offline device is 404103", "[admin][method]") {
  test::admin_fixture f;

  SECTION("a connected door lock answers") {
    auto lock = f.connect_lock("lock1", 43);
    const auto answer = f.run({"invoke-device-method", "-d", "lock1", "--method-name", "lockDoor", "--method-payload",
                               R"({"lockTime":"10m"})", "--timeout", "10"});
    REQUIRE(answer.exit_code == 0);
    CHECK(answer.json() == json{{"status", 200}, {"payload", {{"Response", "lockDoor called successfully"}}}});
    CHECK(lock->lock_requests() == std::vector<json>{{{"lockTime", "10m"}}});

    const auto table = f.run({"invoke-device-method", "-d", "lock1", "--mn", "lockDoor", "-o", "table"});
    const std::string payload = R"({"Response":"lockDoor called successfully"})";
    CHECK(table.out == "Status  Payload\n------  " + std::string(payload.size(), '-') + "\n200     " + payload + "\n");
  }
  SECTION("offline") {
    f.register_device("lock2");
    const auto answer = f.run({"invoke-device-method", "-d", "lock2", "--method-name", "lockDoor"});
    CHECK(answer.exit_code == 1);
    CHECK(answer.err.starts_with("error: 404 404103 DeviceNotOnline: "));
  }
  SECTION("a timeout outside 5-300 s is the hub's 400004") {
    f.register_device("lock2");
    const auto answer = f.run({"invoke-device-method", "-d", "lock2", "--method-name", "lockDoor", "--timeout", "1"});
    CHECK(answer.exit_code == 1);
    CHECK(answer.err.starts_with("error: 400 400004 ArgumentInvalid: "));
  }
  SECTION("a payload that is not JSON is exit 2") {
    const auto answer = f.run({"invoke-device-method", "-d", "lock2", "--method-name", "lockDoor", "--method-payload", "hi"});
    CHECK(answer.exit_code == 2);
    CHECK(answer.err == "error: --method-payload: not valid JSON: hi\n");
  }
}

TEST_CASE("query prints the results with --top and as a table - a bad query is 400", "[admin][query]") {
  test::admin_fixture f;
  f.register_device("lock1", {{"building", 43}});
  f.register_device("lock2", {{"building", 43}});
  f.register_device("lock3", {{"building", 44}});
  const std::string sql = "SELECT deviceId, tags.building FROM devices WHERE tags.building = 43";

  const auto all = f.run({"query", "--query-command", sql});
  REQUIRE(all.exit_code == 0);
  CHECK(all.json() == json::parse(R"([{"deviceId":"lock1","building":43},{"deviceId":"lock2","building":43}])"));
  CHECK(f.run({"query", "-q", sql, "--top", "1"}).json() == json::parse(R"([{"deviceId":"lock1","building":43}])"));
  CHECK(f.run({"query", "-q", sql, "-o", "table"}).out ==
        "building  deviceId\n"
        "--------  --------\n"
        "43        lock1\n"
        "43        lock2\n");
  const auto bad = f.run({"query", "-q", "SELECT FROM"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.starts_with("error: 400 400000 "));
}

TEST_CASE("bad options exit 2 naming the option", "[admin][options]") {
  const auto missing = test::run_mockhub({"device", "show"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--device-id is required") != std::string::npos);
  const auto output = test::run_mockhub({"device", "list", "--output", "xml"});
  CHECK(output.exit_code == 2);
  CHECK(output.err.find("--output: xml not in {json,table}") != std::string::npos);
  const auto unknown = test::run_mockhub({"device", "list", "--colour"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("--colour") != std::string::npos);
  const auto help = test::run_mockhub({"job", "create", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--job-type") != std::string::npos);
}

TEST_CASE("the hub is found through hub.json - no hub says how to start one", "[admin][locate]") {
  test::temp_dir dir;

  SECTION("no hub.json") {
    const auto r = test::run_mockhub({"device", "list", "--data-dir", dir.path().string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: no mockhub runs in " + dir.path().string() + " (no " + (dir / "hub.json").string() +
                       "); start one with `mockhub start --data-dir " + dir.path().string() +
                       "` (add --detach to get the shell back), or point at a hub with --data-dir, or with "
                       "--connection-string and --rest-url\n");
    // MOCKHUB_DATA_DIR does the same.
    CHECK(test::run_mockhub({"device", "list"}, {"MOCKHUB_DATA_DIR=" + dir.path().string()}).err == r.err);
  }
  SECTION("hub.json of a hub that has exited") {
    auto gone = server::child_process::spawn({.program = "/bin/true"});
    REQUIRE(gone.wait_for_exit(std::chrono::seconds(10)));
    std::ofstream(dir / "hub.json") << json{{"pid", gone.pid()}, {"service_connection_string", "HostName=x;SharedAccessKeyName=a;SharedAccessKey=AA=="},
                                            {"rest_url", "http://127.0.0.1:1"}};
    const auto r = test::run_mockhub({"device", "list", "--data-dir", dir.path().string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("names pid " + std::to_string(gone.pid()) + ", which has exited") != std::string::npos);
  }
  SECTION("hub.json that is not JSON") {
    std::ofstream(dir / "hub.json") << "{";
    const auto r = test::run_mockhub({"device", "list", "--data-dir", dir.path().string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err == "error: " + (dir / "hub.json").string() + " is not a JSON object as `mockhub start` writes it\n");
  }
  SECTION("hub.json of a running hub, even with a connection string in the environment") {
    test::admin_fixture f;
    f.register_device("lock1");
    std::ofstream(dir / "hub.json") << json{{"pid", ::getpid()},
                                            {"host_name", "localhost"},
                                            {"service_connection_string", f.hub.service_connection_string()},
                                            {"rest_url", "http://127.0.0.1:" + std::to_string(f.hub.rest_port())},
                                            {"https_url", "https://127.0.0.1:" + std::to_string(f.hub.https_port())},
                                            {"ca_file", f.hub.ca_file().string()},
                                            {"mqtt_port", f.hub.mqtt_port()},
                                            {"virtual_clock", false},
                                            {"devices", json::object()}};
    const auto r = test::run_mockhub({"device", "list", "-o", "table", "--data-dir", dir.path().string()},
                                     {"IOTHUB_CONNECTION_STRING=HostName=elsewhere;SharedAccessKeyName=a;SharedAccessKey=AA=="});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\nlock1 ") != std::string::npos);
  }
  SECTION("the environment `mockhub run` exports, over HTTPS with the hub's CA") {
    test::admin_fixture f;
    f.register_device("lock1");
    const auto r = test::run_mockhub({"device", "show", "-d", "lock1"},
                                     {"IOTHUB_CONNECTION_STRING=" + f.hub.service_connection_string(),
                                      "MOCKHUB_REST_URL=https://127.0.0.1:" + std::to_string(f.hub.https_port()),
                                      "MOCKHUB_CA_FILE=" + f.hub.ca_file().string()});
    CHECK(r.exit_code == 0);
    CHECK(r.json() == f.client->registry().get_device("lock1").document);
  }
  SECTION("an https URL without the hub's CA is refused") {
    test::admin_fixture f;
    const auto r = test::run_mockhub({"device", "list", "--rest-url", "https://127.0.0.1:" + std::to_string(f.hub.https_port()),
                                      "--connection-string", f.hub.service_connection_string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with("error: no answer from the hub at https://127.0.0.1:" + std::to_string(f.hub.https_port()) +
                            " (--connection-string): "));
  }
  SECTION("an unreachable hub") {
    const auto r = test::run_mockhub({"device", "list", "--connection-string", "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=AA==",
                                      "--rest-url", "http://127.0.0.1:1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with("error: no answer from the hub at http://127.0.0.1:1 (--connection-string): "));
  }
  SECTION("a connection string that cannot work is exit 2") {
    const auto r = test::run_mockhub({"device", "list", "--connection-string", "nonsense"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.starts_with("error: --connection-string: "));
  }
}
