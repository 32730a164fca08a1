// Fixture collections for the query tests: a fleet of device twins in the wire shape of
// GET /twins/{id}, module twins, device-job records, and helpers that run a query to the end.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/query/compiled_query.hpp"
#include "mock_hub/core/query/document_source.hpp"

namespace query_fixtures {

using nlohmann::json;
using mockhub::core::query::map_document_source;

/// A twin with the fields every twin has, then `extra` merged in (tags, properties, identity).
inline json twin(const std::string& id, const json& extra = json::object()) {
  json t = {
      {"deviceId", id},
      {"etag", "AAAAAAAAAAE="},
      {"deviceEtag", "MTIz"},
      {"status", "enabled"},
      {"statusReason", nullptr},
      {"statusUpdateTime", "0001-01-01T00:00:00Z"},
      {"connectionState", "Connected"},
      {"lastActivityTime", "0001-01-01T00:00:00Z"},
      {"cloudToDeviceMessageCount", 0},
      {"authenticationType", "sas"},
      {"x509Thumbprint", {{"primaryThumbprint", nullptr}, {"secondaryThumbprint", nullptr}}},
      {"modelId", ""},
      {"version", 2},
      {"capabilities", {{"iotEdge", false}}},
      {"tags", json::object()},
      {"properties",
       {{"desired",
         {{"$metadata", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"}}}, {"$version", 1}}},
        {"reported",
         {{"$metadata", {{"$lastUpdated", "2026-01-01T00:00:00.0000000Z"}}}, {"$version", 1}}}}},
  };
  t.merge_patch(extra);
  return t;
}

/// The fleet the documentation examples run against. The twin "myDeviceId" is the sample twin
/// of Microsoft's query docs (query-twins.md); the others vary region, connectivity, telemetry
/// status and identity fields so that every example selects some devices and leaves out others.
inline const map_document_source::map_type& fleet() {
  static const map_document_source::map_type docs = [] {
    map_document_source::map_type m;
    auto add = [&](json t) { m.emplace(t["deviceId"].get<std::string>(), std::move(t)); };
    add(twin("myDeviceId", json::parse(R"({
      "connectionState": "Disconnected",
      "tags": {"location": {"region": "US", "plant": "Redmond43"}},
      "properties": {
        "desired": {"telemetryConfig": {"configId": "db00ebf5-eeeb-42be-86a1-458cccb69e57", "sendFrequencyInSecs": 300},
                    "$metadata": {"$lastUpdated": "2026-01-02T00:00:00.0000000Z",
                                  "telemetryConfig": {"$lastUpdated": "2026-01-02T00:00:00.0000000Z", "$lastUpdatedVersion": 4}},
                    "$version": 4},
        "reported": {"connectivity": {"type": "cellular"},
                     "telemetryConfig": {"configId": "db00ebf5-eeeb-42be-86a1-458cccb69e57", "sendFrequencyInSecs": 300, "status": "Success"},
                     "$version": 7}}})")));
    add(twin("us-wifi", json::parse(R"({
      "tags": {"location": {"region": "US", "plant": "Redmond44"}},
      "properties": {"reported": {"connectivity": "wifi", "telemetryConfig": {"sendFrequencyInSecs": 30, "status": "Pending"}}}})")));
    add(twin("us-wired", json::parse(R"({
      "status": "disabled",
      "tags": {"location": {"region": "US"}},
      "properties": {"reported": {"connectivity": "wired", "telemetryConfig": {"sendFrequencyInSecs": 120, "status": "Success"}}}})")));
    add(twin("eu-1", json::parse(R"({
      "tags": {"location": {"region": "EU"}},
      "properties": {"reported": {"connectivity": "wifi", "telemetryConfig": {"sendFrequencyInSecs": 600, "status": "Error"}}}})")));
    add(twin("eu-2", json::parse(R"({
      "tags": {"location": {"region": "EU"}},
      "properties": {"reported": {"telemetryConfig": {"sendFrequencyInSecs": "60", "status": "Pending"}}}})")));
    add(twin("AZ3166Device", json::parse(R"({
      "connectionState": "Disconnected",
      "lastActivityTime": "2021-05-07T00:50:38.0543092Z"})")));
    add(twin("building43", json::parse(R"({
      "tags": {"building": 43, "floor": "3", "group": {"name": "some_value"}},
      "properties": {"desired": {"building": 43, "floor": 3},
                     "reported": {"telemetryConfig": {"status": "Success"}}}})")));
    json nulls = twin("nulls");  // set after the merge: a merge patch would delete null members
    nulls["tags"]["location"]["region"] = nullptr;
    nulls["properties"]["reported"]["connectivity"] = nullptr;
    add(std::move(nulls));
    add(twin("dev1", json::parse(R"({"tags": {"site": "lab", "floor": 2}})")));
    return m;
  }();
  return docs;
}

/// Module twins, keyed "deviceId/moduleId" (query-twins.md, module twin queries).
inline const map_document_source::map_type& modules() {
  static const map_document_source::map_type docs = [] {
    map_document_source::map_type m;
    auto add = [&](const std::string& device, const std::string& module, const std::string& status) {
      json t = twin(device, {{"moduleId", module}, {"properties", {{"reported", {{"status", status}}}}}});
      m.emplace(device + "/" + module, std::move(t));
    };
    add("device1", "scanner", "scanning");
    add("device2", "scanner", "scanning");
    add("device2", "uploader", "idle");
    add("device3", "scanner", "scanning");
    return m;
  }();
  return docs;
}

/// Per-device job records, keyed "jobId/deviceId" (query-jobs.md, reference section 5.5).
inline const map_document_source::map_type& jobs() {
  static const map_document_source::map_type docs = [] {
    map_document_source::map_type m;
    auto add = [&](const std::string& job, const std::string& device, const std::string& type,
                   const std::string& status, const std::string& created) {
      json r = {{"deviceId", device},
                {"jobId", job},
                {"jobType", type},
                {"status", status},
                {"startTimeUtc", created},
                {"endTimeUtc", created},
                {"createdDateTimeUtc", created + "Z"},
                {"lastUpdatedDateTimeUtc", created + "Z"},
                {"outcome", {{"deviceMethodResponse", nullptr}}}};
      m.emplace(job + "/" + device, std::move(r));
    };
    add("myJobId", "myDeviceId", "scheduleUpdateTwin", "completed", "2016-09-29T18:18:56.7787107");
    add("myJobId", "us-wifi", "scheduleUpdateTwin", "failed", "2016-09-29T18:18:56.7787107");
    add("oldJob", "myDeviceId", "scheduleUpdateTwin", "completed", "2016-08-01T10:00:00.0000000");
    add("methodJob", "myDeviceId", "scheduleDeviceMethod", "completed", "2016-10-01T10:00:00.0000000");
    return m;
  }();
  return docs;
}

/// Every item of a query, following continuation tokens to the last page.
inline json run_all(const mockhub::core::query::compiled_query& q, const map_document_source::map_type& docs,
                    int page_size = 0) {
  map_document_source source(docs);
  json all = json::array();
  std::string token;
  for (int pages = 0; pages < 100000; ++pages) {
    auto page = q.run(source, {.max_item_count = page_size, .continuation = token});
    for (auto& item : page.items) all.push_back(std::move(item));
    if (!page.continuation) break;
    token = *page.continuation;
  }
  return all;
}

/// The keys of the documents a SELECT * query returns ("deviceId", or "deviceId/moduleId",
/// or "jobId/deviceId"), in result order.
inline std::vector<std::string> keys_of(const json& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (item.contains("jobId")) {
      out.push_back(item["jobId"].get<std::string>() + "/" + item["deviceId"].get<std::string>());
    } else if (item.contains("moduleId")) {
      out.push_back(item["deviceId"].get<std::string>() + "/" + item["moduleId"].get<std::string>());
    } else {
      out.push_back(item["deviceId"].get<std::string>());
    }
  }
  return out;
}

}  // namespace query_fixtures
