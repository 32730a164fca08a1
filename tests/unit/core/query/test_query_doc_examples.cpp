// Every query example of Microsoft's IoT Hub query documentation, run over the fixture fleet,
// with the devices (or rows) it must return. Each row names the document and revision it is
// copied from (MicrosoftDocs/azure-docs, articles/iot-hub/...).
#include <catch2/catch.hpp>

#include "mock_hub/core/query/compiled_condition.hpp"
#include "mock_hub/core/query/compiled_query.hpp"
#include "query_fixtures.hpp"

using namespace mockhub::core::query;
using namespace query_fixtures;

namespace {

enum class fixture { devices, modules, jobs };

const map_document_source::map_type& docs_of(fixture f) {
  switch (f) {
    case fixture::modules: return modules();
    case fixture::jobs: return jobs();
    default: return fleet();
  }
}

struct example {
  const char* source;
  fixture collection;
  const char* query;
  const char* item_type;
  // SELECT *: the keys of the returned documents, in order; projections: the rows as JSON.
  std::vector<std::string> keys;
  const char* rows = nullptr;
};

const std::vector<std::string> all_devices = {"AZ3166Device", "building43", "dev1",    "eu-1",    "eu-2",
                                              "myDeviceId",   "nulls",      "us-wifi", "us-wired"};

const char* const twins_2022 = "query-twins.md @0e5c6d3 (2022-09-29)";
const char* const jobs_2022 = "query-jobs.md @200ecc1 (2022-09-29)";
const char* const lang_2016 = "iot-hub-devguide-query-language.md @016c555 (2016-09-30)";
const char* const lang_2018 = "iot-hub-devguide-query-language.md @abdce6f (2018-02-26)";
const char* const lang_2022 = "iot-hub-devguide-query-language.md (2022-09-29 revision)";

}  // namespace

TEST_CASE("Every query example of the IoT Hub docs returns the devices it must", "[core][query][docs]") {
  static const std::vector<example> examples = {
      {twins_2022, fixture::devices, "SELECT * FROM devices", "twin", all_devices},
      {twins_2022, fixture::devices, "SELECT COUNT() as totalNumberOfDevices FROM devices", "raw", {},
       R"([{"totalNumberOfDevices": 9}])"},
      {twins_2022, fixture::devices, "SELECT * FROM devices\nWHERE tags.location.region = 'US'", "twin",
       {"myDeviceId", "us-wifi", "us-wired"}},
      {twins_2022, fixture::devices,
       "SELECT * FROM devices\n  WHERE tags.location.region = 'US'\n    AND "
       "properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
       "twin", {"myDeviceId", "us-wired"}},
      {twins_2022, fixture::devices, "SELECT * FROM devices\n  WHERE properties.reported.connectivity IN ['wired', 'wifi']",
       "twin", {"eu-1", "us-wifi", "us-wired"}},
      {twins_2022, fixture::devices, "SELECT * FROM devices\n  WHERE is_defined(properties.reported.connectivity)",
       "twin", {"eu-1", "myDeviceId", "nulls", "us-wifi", "us-wired"}},
      {twins_2022, fixture::devices,
       "SELECT properties.reported.telemetryConfig.status AS status,\n    COUNT() AS numberOfDevices\n  FROM devices\n"
       "  GROUP BY properties.reported.telemetryConfig.status",
       "raw", {},
       R"([{"numberOfDevices": 3},
           {"numberOfDevices": 1, "status": "Error"},
           {"numberOfDevices": 2, "status": "Pending"},
           {"numberOfDevices": 3, "status": "Success"}])"},
      {twins_2022, fixture::devices,
       "SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'",
       "raw", {},
       R"([{"deviceId": "AZ3166Device", "lastActivityTime": "2021-05-07T00:50:38.0543092Z"},
           {"deviceId": "myDeviceId", "lastActivityTime": "0001-01-01T00:00:00Z"}])"},
      {twins_2022, fixture::modules, "SELECT * FROM devices.modules", "twin",
       {"device1/scanner", "device2/scanner", "device2/uploader", "device3/scanner"}},
      {twins_2022, fixture::modules, "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'",
       "twin", {"device1/scanner", "device2/scanner", "device3/scanner"}},
      {twins_2022, fixture::modules,
       "SELECT * FROM devices.modules\n  WHERE properties.reported.status = 'scanning'\n  AND deviceId IN ['device1', "
       "'device2']",
       "twin", {"device1/scanner", "device2/scanner"}},

      {jobs_2022, fixture::jobs, "SELECT * FROM devices.jobs\n  WHERE devices.jobs.deviceId = 'myDeviceId'",
       "deviceJob", {"methodJob/myDeviceId", "myJobId/myDeviceId", "oldJob/myDeviceId"}},
      {jobs_2022, fixture::jobs,
       "SELECT * FROM devices.jobs\n  WHERE devices.jobs.deviceId = 'myDeviceId'\n    AND devices.jobs.jobType = "
       "'scheduleUpdateTwin'\n    AND devices.jobs.status = 'completed'\n    AND devices.jobs.createdTimeUtc > "
       "'2016-09-01'",
       "deviceJob", {"myJobId/myDeviceId"}},
      {jobs_2022, fixture::jobs, "SELECT * FROM devices.jobs\n  WHERE devices.jobs.jobId = 'myJobId'", "deviceJob",
       {"myJobId/myDeviceId", "myJobId/us-wifi"}},

      // The 2016 text wrote `property.` for `properties.`: valid syntax, a path no twin has.
      {lang_2016, fixture::devices, "SELECT * FROM devices\n        WHERE property.reported.connectivity IN ['wired', 'wifi']",
       "twin", {}},
      {lang_2016, fixture::devices, "SELECT * FROM devices\n        WHERE is_defined(property.reported.connectivity)",
       "twin", {}},
      {lang_2016, fixture::devices, "SELECT * FROM devices\n        WHERE tags.location.region = 'US'", "twin",
       {"myDeviceId", "us-wifi", "us-wired"}},
      // The old docs named the job type scheduleTwinUpdate; records carry scheduleUpdateTwin.
      {lang_2016, fixture::jobs,
       "SELECT * FROM devices.jobs\n        WHERE devices.jobs.deviceId = 'myDeviceId'\n            AND "
       "devices.jobs.jobType = 'scheduleTwinUpdate'\n            AND devices.jobs.status = 'completed'\n            "
       "AND devices.jobs.createdTimeUtc > '2016-09-01'",
       "deviceJob", {}},

      {lang_2018, fixture::devices, "SELECT LastActivityTime FROM devices WHERE status = 'enabled'", "raw", {},
       R"([{"lastActivityTime": "2021-05-07T00:50:38.0543092Z"}, {"lastActivityTime": "0001-01-01T00:00:00Z"},
           {"lastActivityTime": "0001-01-01T00:00:00Z"}, {"lastActivityTime": "0001-01-01T00:00:00Z"},
           {"lastActivityTime": "0001-01-01T00:00:00Z"}, {"lastActivityTime": "0001-01-01T00:00:00Z"},
           {"lastActivityTime": "0001-01-01T00:00:00Z"}, {"lastActivityTime": "0001-01-01T00:00:00Z"}])"},
      {lang_2018, fixture::modules, "Select * from devices.modules where properties.reported.status = 'scanning'",
       "twin", {"device1/scanner", "device2/scanner", "device3/scanner"}},
      {lang_2018, fixture::modules,
       "Select * from devices.modules \n  where properties.reported.status = 'scanning' \n  and deviceId IN "
       "['device1', 'device2']",
       "twin", {"device1/scanner", "device2/scanner"}},

      // The 2022 SELECT-clause examples are fragments; FROM devices completes them.
      {lang_2022, fixture::devices, "SELECT DeviceID, LastActivityTime FROM devices WHERE deviceId IN ['dev1', 'eu-1']",
       "raw", {},
       R"([{"deviceId": "dev1", "lastActivityTime": "0001-01-01T00:00:00Z"},
           {"deviceId": "eu-1", "lastActivityTime": "0001-01-01T00:00:00Z"}])"},
      {lang_2022, fixture::devices, "SELECT COUNT() as TotalNumber FROM devices", "raw", {}, R"([{"TotalNumber": 9}])"},
      {lang_2022, fixture::devices, "SELECT * FROM devices WHERE tags.[[group]].name = 'some_value'", "twin",
       {"building43"}},
      {lang_2022, fixture::jobs, "SELECT * FROM devices.jobs\n    WHERE devices.jobs.deviceId = 'myDeviceId'",
       "deviceJob", {"methodJob/myDeviceId", "myJobId/myDeviceId", "oldJob/myDeviceId"}},

      // az CLI `iot hub module-identity list` (Azure/azure-iot-cli-extension PR #76) and the
      // Invoke-AzIotHubQuery example qualify the device id with the collection.
      {"azure-iot-cli-extension azext_iot/operations/hub.py (PR #76)", fixture::modules,
       "select * from devices.modules where devices.deviceId = 'device2'", "twin",
       {"device2/scanner", "device2/uploader"}},
      {"az.iothub Invoke-AzIotHubQuery example 2", fixture::modules,
       "select * from devices.modules where devices.deviceId = 'device3'", "twin", {"device3/scanner"}},
  };
  const auto& ex = GENERATE(from_range(examples));
  CAPTURE(ex.source, ex.query);

  const compiled_query q = compile_query(ex.query);
  const json items = run_all(q, docs_of(ex.collection));
  CHECK(q.item_type() == ex.item_type);
  if (ex.rows) {
    CHECK(items == json::parse(ex.rows));
  } else {
    CHECK(keys_of(items) == ex.keys);
  }
  // Every example survives print -> parse -> print unchanged.
  CHECK(compile_query(q.canonical_text()).canonical_text() == q.canonical_text());
}

TEST_CASE("Job query conditions from the docs, SDKs and captures select the devices they must",
          "[core][query][docs][job]") {
  struct condition_example {
    const char* source;
    const char* condition;
    std::vector<std::string> devices;
  };
  static const std::vector<condition_example> examples = {
      {"Node SDK capture service-requests.jsonl (method job)", "deviceId IN ['dev1']", {"dev1"}},
      {"Node SDK capture service-requests.jsonl (twin job)", "tags.site = 'lab'", {"dev1"}},
      {"azure-iot-sdk-csharp PR #1471 e2e test", "DeviceId IN ['us-wifi']", {"us-wifi"}},
      {"azure-iot-sdk-csharp issue #40 (maintainer's workaround for all devices)", "IS_DEFINED(DeviceId)", all_devices},
      {"iot-hub-devguide-jobs.md / reference 5.5: every device", "*", all_devices},
      {"reference 5.5 (tag compared as a string: the twin holds the number 43)", "tags.building = '43'", {}},
      {"tutorial schedule jobs: tags.building set to 43", "tags.building = 43", {"building43"}},
      {"azure-iot-sdk-csharp issue #40", "deviceId IN ['MyDevice1','MyDevice2']", {}},
  };
  const auto& ex = GENERATE(from_range(examples));
  CAPTURE(ex.source, ex.condition);
  const compiled_condition c = compile_condition(ex.condition);
  std::vector<std::string> selected;
  for (const auto& [id, twin] : fleet()) {
    if (c.matches(twin)) selected.push_back(id);
  }
  CHECK(selected == ex.devices);
  CHECK(compile_condition(c.canonical_text()).canonical_text() == c.canonical_text());
}
