#include "mockhub/device/fleet/fixture.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

namespace mockhub::device::fleet {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) { throw fixture_error("fleet fixture: " + path + ": " + why); }

void only(const json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!j.is_object()) fail(path, "must be an object");
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) fail(path + "." + k, "unknown member");
  }
}

double number(const json& j, const std::string& path) {
  if (!j.is_number()) fail(path, "must be a number");
  const double v = j.get<double>();
  if (!std::isfinite(v) || v < 0) fail(path, "must be a finite number >= 0");
  return v;
}

int status_of(const json& j, const std::string& path) {
  if (!j.is_number_integer()) fail(path, "must be an integer");
  const int v = j.get<int>();
  if (v < 100 || v > 599) fail(path, "must be 100..599");
  return v;
}

bool boolean(const json& j, const std::string& path) {
  if (!j.is_boolean()) fail(path, "must be true or false");
  return j.get<bool>();
}

const json& object_of(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "must be an object");
  return j;
}

method_behaviour parse_method(const json& j, const std::string& path) {
  only(j, path, {"status", "payload", "latency_ms", "failure_rate", "failure_status", "failure_payload", "never_answers", "echo_payload",
                 "reports"});
  method_behaviour m;
  if (j.contains("status")) m.status = status_of(j["status"], path + ".status");
  if (j.contains("payload")) m.payload = j["payload"];
  if (j.contains("latency_ms")) m.latency = distribution::parse(j["latency_ms"], path + ".latency_ms");
  if (j.contains("failure_rate")) {
    m.failure_rate = number(j["failure_rate"], path + ".failure_rate");
    if (m.failure_rate > 1) fail(path + ".failure_rate", "must be 0..1");
  }
  if (j.contains("failure_status")) m.failure_status = status_of(j["failure_status"], path + ".failure_status");
  if (j.contains("failure_payload")) m.failure_payload = j["failure_payload"];
  if (j.contains("never_answers")) m.never_answers = boolean(j["never_answers"], path + ".never_answers");
  if (j.contains("echo_payload")) m.echo_payload = boolean(j["echo_payload"], path + ".echo_payload");
  if (j.contains("reports")) m.reports = object_of(j["reports"], path + ".reports");
  return m;
}

behaviour parse_behaviour(const json& j, const std::string& path) {
  only(j, path, {"methods", "reported_updates", "telemetry", "churn", "desired_echo"});
  behaviour b;
  if (j.contains("methods")) {
    for (const auto& [name, m] : object_of(j["methods"], path + ".methods").items())
      b.methods.emplace(name, parse_method(m, path + ".methods." + name));
  }
  if (j.contains("reported_updates")) {
    const auto& r = j["reported_updates"];
    const auto p = path + ".reported_updates";
    only(r, p, {"every_ms", "patch", "counter_property"});
    reported_behaviour rb;
    if (!r.contains("every_ms")) fail(p + ".every_ms", "is required");
    rb.every = distribution::parse(r["every_ms"], p + ".every_ms");
    if (r.contains("patch")) rb.patch = object_of(r["patch"], p + ".patch");
    if (r.contains("counter_property")) {
      if (!r["counter_property"].is_string()) fail(p + ".counter_property", "must be a string");
      rb.counter_property = r["counter_property"].get<std::string>();
    }
    b.reported_updates = rb;
  }
  if (j.contains("telemetry")) {
    const auto& t = j["telemetry"];
    const auto p = path + ".telemetry";
    only(t, p, {"every_ms", "body"});
    telemetry_behaviour tb;
    if (!t.contains("every_ms")) fail(p + ".every_ms", "is required");
    tb.every = distribution::parse(t["every_ms"], p + ".every_ms");
    if (t.contains("body")) tb.body = t["body"];
    b.telemetry = tb;
  }
  if (j.contains("churn")) {
    const auto& c = j["churn"];
    const auto p = path + ".churn";
    only(c, p, {"connected_ms", "offline_ms"});
    if (!c.contains("connected_ms") || !c.contains("offline_ms")) fail(p, "needs connected_ms and offline_ms");
    b.churn = churn_behaviour{distribution::parse(c["connected_ms"], p + ".connected_ms"),
                              distribution::parse(c["offline_ms"], p + ".offline_ms")};
  }
  if (j.contains("desired_echo")) b.desired_echo = boolean(j["desired_echo"], path + ".desired_echo");
  return b;
}

device_spec parse_device_fields(const json& j, const std::string& path, device_spec d) {
  if (j.contains("key")) {
    if (!j["key"].is_string()) fail(path + ".key", "must be a string (base64)");
    d.key = j["key"].get<std::string>();
  }
  if (j.contains("tags")) d.tags = object_of(j["tags"], path + ".tags");
  if (j.contains("reported")) d.reported = object_of(j["reported"], path + ".reported");
  if (j.contains("behaviour")) {
    if (!j["behaviour"].is_string()) fail(path + ".behaviour", "must be a string");
    d.behaviour = j["behaviour"].get<std::string>();
  }
  return d;
}

}  // namespace

std::chrono::milliseconds distribution::sample(std::mt19937_64& random) const {
  double v = a;
  switch (shape) {
    case kind::constant: break;
    case kind::uniform: v = std::uniform_real_distribution<double>(a, b)(random); break;
    case kind::exponential: v = a <= 0 ? 0 : std::exponential_distribution<double>(1.0 / a)(random); break;
    case kind::normal: v = b <= 0 ? a : std::normal_distribution<double>(a, b)(random); break;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(std::max(0.0, v)))};
}

distribution distribution::parse(const json& j, const std::string& path) {
  distribution d;
  if (j.is_number()) {
    d.a = number(j, path);
    return d;
  }
  if (!j.is_object() || j.size() != 1) fail(path, "must be a number of ms or one of {constant|uniform|exponential|normal: ...}");
  const auto first = j.begin();
  const std::string name = first.key();
  const json& v = first.value();
  const auto p = path + "." + name;
  if (name == "constant") {
    d.a = number(v, p);
  } else if (name == "exponential") {
    d.shape = kind::exponential;
    d.a = number(v, p);
  } else if (name == "uniform" || name == "normal") {
    if (!v.is_array() || v.size() != 2) fail(p, "must be [a, b]");
    d.shape = name == "uniform" ? kind::uniform : kind::normal;
    d.a = number(v[0], p + "[0]");
    d.b = number(v[1], p + "[1]");
    if (d.shape == kind::uniform && d.b < d.a) fail(p, "needs min <= max");
  } else {
    fail(p, "unknown distribution (constant, uniform, exponential, normal)");
  }
  return d;
}

fleet_fixture fleet_fixture::parse(const json& j) {
  only(j, "$", {"seed", "behaviours", "devices", "groups", "description"});
  fleet_fixture f;
  if (j.contains("seed")) {
    if (!j["seed"].is_number_unsigned() && !(j["seed"].is_number_integer() && j["seed"].get<std::int64_t>() >= 0))
      fail("$.seed", "must be an integer >= 0");
    f.seed = j["seed"].get<std::uint64_t>();
  }
  if (j.contains("behaviours"))
    for (const auto& [name, b] : object_of(j["behaviours"], "$.behaviours").items())
      f.behaviours.emplace(name, parse_behaviour(b, "$.behaviours." + name));

  std::set<std::string> ids;
  auto add = [&](device_spec d, const std::string& path) {
    if (d.id.empty()) fail(path + ".id", "must be a non-empty string");
    if (!d.behaviour.empty() && !f.behaviours.contains(d.behaviour)) fail(path + ".behaviour", "unknown behaviour '" + d.behaviour + "'");
    if (!ids.insert(d.id).second) fail(path + ".id", "duplicate device id '" + d.id + "'");
    f.devices.push_back(std::move(d));
  };
  if (j.contains("devices")) {
    if (!j["devices"].is_array()) fail("$.devices", "must be an array");
    for (std::size_t i = 0; i < j["devices"].size(); ++i) {
      const auto& d = j["devices"][i];
      const auto path = "$.devices[" + std::to_string(i) + "]";
      only(d, path, {"id", "key", "tags", "reported", "behaviour"});
      device_spec spec;
      if (!d.contains("id") || !d["id"].is_string()) fail(path + ".id", "must be a non-empty string");
      spec.id = d["id"].get<std::string>();
      add(parse_device_fields(d, path, std::move(spec)), path);
    }
  }
  if (j.contains("groups")) {
    if (!j["groups"].is_array()) fail("$.groups", "must be an array");
    for (std::size_t g = 0; g < j["groups"].size(); ++g) {
      const auto& grp = j["groups"][g];
      const auto path = "$.groups[" + std::to_string(g) + "]";
      only(grp, path, {"prefix", "count", "digits", "first", "tags", "reported", "behaviour"});
      if (!grp.contains("prefix") || !grp["prefix"].is_string()) fail(path + ".prefix", "must be a string");
      if (!grp.contains("count") || !grp["count"].is_number_unsigned()) fail(path + ".count", "must be an integer >= 0");
      const auto prefix = grp["prefix"].get<std::string>();
      const auto count = grp["count"].get<std::size_t>();
      const std::size_t digits = grp.contains("digits") ? grp["digits"].get<std::size_t>() : 0;
      const std::size_t first = grp.contains("first") ? grp["first"].get<std::size_t>() : 0;
      const auto base = parse_device_fields(grp, path, {});
      for (std::size_t i = 0; i < count; ++i) {
        auto n = std::to_string(first + i);
        if (n.size() < digits) n.insert(0, digits - n.size(), '0');
        device_spec d = base;
        d.id = prefix + n;
        add(std::move(d), path);
      }
    }
  }
  return f;
}

fleet_fixture fleet_fixture::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw fixture_error("fleet fixture: cannot read " + file.string());
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw fixture_error("fleet fixture: " + file.string() + " is not valid JSON");
  return parse(j);
}

const behaviour* fleet_fixture::behaviour_of(const device_spec& d) const {
  const auto it = behaviours.find(d.behaviour);
  return it == behaviours.end() ? nullptr : &it->second;
}

method_decision decide(const method_behaviour& b, const json& request_payload, std::mt19937_64& random) {
  method_decision d;
  if (b.never_answers) {
    d.answer = false;
    return d;
  }
  // Always two draws (failure, latency) in this order, so one device's sequence does not depend
  // on which branch an earlier call took.
  const double roll = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  d.latency = b.latency.sample(random);
  if (roll < b.failure_rate) {
    d.failed = true;
    d.status = b.failure_status;
    d.payload = b.failure_payload;
  } else {
    d.status = b.status;
    d.payload = b.echo_payload ? request_payload : b.payload;
  }
  return d;
}

}  // namespace mockhub::device::fleet
