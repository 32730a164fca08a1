#include "trace_replay.hpp"

#include <httplib.h>
#include <mosquitto.h>

#include <cerrno>
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "hub_runtime.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/trace/trace_recorder.hpp"

namespace mockhub::server {

using nlohmann::json;

namespace {

struct unreadable {
  std::string reason;
};

struct trace_contents {
  trace::trace_header header;
  std::vector<std::pair<std::size_t, json>> events;  // (line number, event)
};

std::string require_string(const json& e, const char* member, std::size_t line) {
  if (!e.contains(member) || !e[member].is_string())
    throw unreadable{"line " + std::to_string(line) + ": \"" + member + "\" must be a string"};
  return e[member];
}

void require_integer(const json& e, const char* member, std::size_t line) {
  if (!e.contains(member) || !e[member].is_number_integer())
    throw unreadable{"line " + std::to_string(line) + ": \"" + member + "\" must be an integer"};
}

// Checks what the replay needs of one event.
void check_event(const json& e, std::size_t line, std::uint64_t expected_seq) {
  if (!e.is_object()) throw unreadable{"line " + std::to_string(line) + ": an event must be a JSON object"};
  require_integer(e, "seq", line);
  if (e["seq"].get<std::int64_t>() != static_cast<std::int64_t>(expected_seq))
    throw unreadable{"line " + std::to_string(line) + ": \"seq\" is " + e["seq"].dump() + ", expected " +
                     std::to_string(expected_seq)};
  const std::string kind = require_string(e, "dir", line) + " " + require_string(e, "kind", line);
  if (kind == "device->hub connect" || kind == "device->hub disconnect" || kind == "hub->device kick") {
    require_string(e, "device", line);
  } else if (kind == "device->hub subscribe" || kind == "device->hub unsubscribe") {
    require_string(e, "device", line);
    require_string(e, "filter", line);
  } else if (kind == "device->hub publish" || kind == "hub->device publish") {
    require_string(e, "device", line);
    require_string(e, "topic", line);
  } else if (kind == "client->hub request") {
    require_string(e, "method", line);
    require_string(e, "path", line);
    require_integer(e, "exchange", line);
  } else if (kind == "hub->client response") {
    require_integer(e, "exchange", line);
    require_integer(e, "status", line);
  } else if (kind == "hub clock") {
    if (!e.contains("seconds") || !e["seconds"].is_number() || e["seconds"].get<double>() < 0)
      throw unreadable{"line " + std::to_string(line) + ": \"seconds\" must be a number >= 0"};
  } else {
    throw unreadable{"line " + std::to_string(line) + ": unknown event \"" + kind + "\""};
  }
}

trace_contents read_trace(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw unreadable{std::string("cannot read the file: ") + std::strerror(errno)};
  trace_contents t;
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw unreadable{"line " + std::to_string(line) + ": not a JSON value"};
    if (line == 1) {
      try {
        t.header = trace::header_from_json(j);
      } catch (const trace::trace_error& e) {
        throw unreadable{"line 1: " + std::string(e.what())};
      }
      continue;
    }
    check_event(j, line, t.events.size() + 1);
    t.events.emplace_back(line, std::move(j));
  }
  if (line == 0) throw unreadable{"line 1: the trace is empty (a header is required)"};
  return t;
}

std::string describe(const json& e) {
  std::string d = e.value("dir", "") + " " + e.value("kind", "");
  if (e.contains("device")) d += " " + e["device"].get<std::string>();
  if (e.contains("topic")) d += " " + e["topic"].get<std::string>();
  if (e.contains("method")) d += " " + e["method"].get<std::string>() + " " + e["path"].get<std::string>();
  if (e.contains("exchange")) d += " (exchange " + e["exchange"].dump() + ")";
  return d;
}

json without_secrets(json j) {  // "<redacted>" becomes null: the fresh hub generates its own
  if (j.is_string() && j.get<std::string>() == trace::redacted) return nullptr;
  if (j.is_structured())
    for (auto& v : j) v = without_secrets(std::move(v));
  return j;
}

// A device played from the trace: a plain libmosquitto client on the hub's MQTT port.
class replay_device {
 public:
  replay_device(const std::string& id, bool clean_session) {
    mosq_ = mosquitto_new(id.c_str(), clean_session, this);
    if (!mosq_) throw std::runtime_error("cannot create an MQTT client for " + id);
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_disconnect_callback_set(mosq_, [](struct mosquitto* m, void*, int rc) {
      if (rc != 0) mosquitto_disconnect(m);  // dropped by the hub: stays down, as recorded
    });
  }
  ~replay_device() {
    mosquitto_disconnect(mosq_);
    if (running_) mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }
  replay_device(const replay_device&) = delete;
  replay_device& operator=(const replay_device&) = delete;

  void connect(int port, const std::string& username, const std::string& password) {
    if (running_) {  // connecting again (after a kick or a disconnect): a fresh network loop
      mosquitto_disconnect(mosq_);
      mosquitto_loop_stop(mosq_, true);
      running_ = false;
    }
    mosquitto_username_pw_set(mosq_, username.c_str(), password.c_str());
    const int rc = mosquitto_connect(mosq_, "127.0.0.1", port, 60);
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string("cannot connect: ") + mosquitto_strerror(rc));
    mosquitto_loop_start(mosq_);
    running_ = true;
  }
  void subscribe(const std::string& filter, bool on) {
    if (on) mosquitto_subscribe(mosq_, nullptr, filter.c_str(), 1);
    else mosquitto_unsubscribe(mosq_, nullptr, filter.c_str());
  }
  void publish(const std::string& topic, const std::string& payload) {
    mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
  }
  void disconnect() { mosquitto_disconnect(mosq_); }

 private:
  struct mosquitto* mosq_ = nullptr;
  bool running_ = false;
};

// What the fresh hub records, in memory.
class recorded_events {
 public:
  void add(const json& line) {
    if (line.contains("format")) return;  // the header
    {
      std::lock_guard lock(mutex_);
      events_.push_back(line);
    }
    changed_.notify_all();
  }
  std::optional<json> wait(std::size_t index, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return events_.size() > index; })) return std::nullopt;
    return events_[index];
  }
  std::vector<json> from(std::size_t index) {
    std::lock_guard lock(mutex_);
    return index < events_.size() ? std::vector<json>(events_.begin() + static_cast<std::ptrdiff_t>(index), events_.end())
                                  : std::vector<json>{};
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> events_;
};

class replayer {
 public:
  replayer(const replay_options& options, const trace_contents& t, std::ostream& out, replay_report& report)
      : options_(options), trace_(t), out_(out), report_(report) {}

  void run() {
    hub_runtime_options o;
    o.virtual_time = true;
    o.seed = trace_.header.seed.value_or(0);
    o.host_name = trace_.header.host_name;
    // HTTPS only when the trace used it: its request ids differ from the HTTP server's.
    o.tls = std::any_of(trace_.events.begin(), trace_.events.end(),
                        [](const auto& e) { return e.second.value("scheme", "") == "https"; });
    o.plugin = options_.plugin;
    o.mosquitto_binary = options_.mosquitto_binary;
    o.on_trace_event = [this](const json& line) { recorded_.add(line); };
    if (!trace_.header.virtual_clock || !trace_.header.seed)
      out_ << options_.trace.string()
           << ": recorded without a virtual clock and a seed; times, ids and keys will differ\n";
    hub_runtime hub(o);
    hub.start();
    hub_ = &hub;
    std::size_t index = 0;
    for (; index < trace_.events.size(); ++index) {
      const auto& [line, expected] = trace_.events[index];
      try {
        play(expected);
      } catch (const std::exception& e) {
        difference(line, expected, {std::string("cannot replay it: ") + e.what()});
        break;
      }
      const auto actual = recorded_.wait(index, options_.step_timeout);
      if (!actual) {
        difference(line, expected,
                   {"the hub recorded nothing for it within " + std::to_string(options_.step_timeout.count()) + " ms"});
        break;
      }
      if (options_.verify) compare(line, expected, *actual);
    }
    if (options_.verify && index == trace_.events.size()) {
      const auto extra = recorded_.from(index);
      if (!extra.empty()) {
        std::vector<std::string> lines;
        for (const auto& e : extra) lines.push_back("unexpected: " + e.dump());
        difference(trace_.events.empty() ? 1 : trace_.events.back().first + 1, json{{"dir", "(end"}, {"kind", "of trace)"}},
                   lines);
      }
    }
    report_.events = index;
    for (auto& [exchange, call] : calls_) call.wait_for(options_.step_timeout);
    devices_.clear();
    hub.stop();
    hub_ = nullptr;
  }

 private:
  void difference(std::size_t line, const json& expected, std::vector<std::string> members) {
    out_ << options_.trace.string() << ":" << line << ": " << describe(expected) << "\n";
    for (const auto& m : members) out_ << "  " << m << "\n";
    report_.differences.push_back({line, describe(expected), std::move(members)});
  }

  void compare(std::size_t line, const json& expected, const json& actual) {
    json e = expected, a = actual;
    if (!trace_.header.virtual_clock) {
      e.erase("time");
      a.erase("time");
    }
    auto members = json_differences(e, a);
    if (!members.empty()) difference(line, expected, std::move(members));
  }

  replay_device& device(const std::string& id) {
    auto it = devices_.find(id);
    if (it == devices_.end()) throw std::runtime_error("device " + id + " never connected");
    return *it->second;
  }

  void play(const json& e) {
    const std::string kind = e["dir"].get<std::string>() + " " + e["kind"].get<std::string>();
    if (kind == "device->hub connect") {
      const std::string id = e["device"];
      hub_->wait_credentials_applied();
      const auto [key, now] = hub_->call([&](core::hub& h) {
        return std::pair{h.registry().get_identity(id).primary_key, h.time().now()};
      });
      std::string username = hub_->host_name() + "/" + id + "/?api-version=" +
                             core::url_encode(e.value("api_version", "2021-04-12"));
      if (e.contains("client_type") && e["client_type"].is_string() && !e["client_type"].get<std::string>().empty())
        username += "&DeviceClientType=" + core::url_encode(e["client_type"].get<std::string>());
      if (e.contains("model_id") && e["model_id"].is_string() && !e["model_id"].get<std::string>().empty())
        username += "&model-id=" + core::url_encode(e["model_id"].get<std::string>());
      const std::string password = core::sas_token::create(hub_->host_name() + "/devices/" + id, key,
                                                           now + std::chrono::hours(24 * 365));
      auto& d = devices_[id];
      if (!d) d = std::make_unique<replay_device>(id, e.value("clean_session", false));
      d->connect(hub_->mqtt_port(), username, password);
    } else if (kind == "device->hub disconnect") {
      const std::string id = e["device"];
      if (!kicked_.contains(id)) device(id).disconnect();
      kicked_.erase(id);
    } else if (kind == "device->hub subscribe" || kind == "device->hub unsubscribe") {
      device(e["device"]).subscribe(e["filter"], kind == "device->hub subscribe");
    } else if (kind == "device->hub publish") {
      device(e["device"]).publish(e["topic"], trace::payload_bytes(e, "payload"));
    } else if (kind == "hub->device kick") {
      kicked_.insert(e["device"].get<std::string>());
    } else if (kind == "client->hub request") {
      open_requests_[e["exchange"].get<std::uint64_t>()] = e["path"].get<std::string>();
      send(e);
    } else if (kind == "hub->client response") {
      open_requests_.erase(e["exchange"].get<std::uint64_t>());
    } else if (kind == "hub clock") {
      // A clock moved by a request in flight (POST /_mockhub/clock/advance) moves again when
      // that request is replayed: not a second time here.
      for (const auto& [exchange, path] : open_requests_)
        if (path.ends_with("/_mockhub/clock/advance")) return;
      hub_->advance(std::chrono::duration_cast<core::duration>(
          std::chrono::duration<double>(e["seconds"].get<double>())));
    }
    // hub->device publish, hub->client response: outputs, compared once the hub has made them.
  }

  void send(const json& e) {
    httplib::Request req;
    req.method = e["method"];
    req.path = e["path"].get<std::string>() + (e.contains("query") ? "?" + e["query"].get<std::string>() : "");
    if (e.contains("headers") && e["headers"].is_object())
      for (const auto& [name, value] : e["headers"].items())
        if (value.is_string()) req.headers.emplace(name, value.get<std::string>());
    if (e.contains("identity") && e["identity"].is_string()) {
      const std::string policy = e["identity"];
      const auto [key, now] = hub_->call([&](core::hub& h) {
        const auto* p = h.policies().find(policy);
        if (!p) throw std::runtime_error("the fresh hub has no shared access policy " + policy);
        return std::pair{p->primary_key, h.time().now()};
      });
      req.headers.emplace("Authorization", core::sas_token::create(hub_->host_name(), key,
                                                                   now + std::chrono::hours(24 * 365), policy));
    }
    json body_holder = e;
    if (body_holder.contains("body")) body_holder["body"] = without_secrets(body_holder["body"]);
    req.body = trace::payload_bytes(body_holder, "body");
    const bool https = e.value("scheme", "http") == "https";
    const int port = https ? hub_->https_port() : hub_->rest_port();
    calls_[e["exchange"].get<std::uint64_t>()] = std::async(std::launch::async, [port, https, req = std::move(req)] {
      const auto send = [&req](auto& client) {
        client.set_url_encode(false);  // the path is recorded as sent, already encoded
        client.set_read_timeout(600, 0);
        client.send(req);
      };
      if (https) {
        httplib::SSLClient client("127.0.0.1", port);
        client.enable_server_certificate_verification(false);  // our own hub on loopback
        send(client);
      } else {
        httplib::Client client("127.0.0.1", port);
        send(client);
      }
    });
  }

  const replay_options& options_;
  const trace_contents& trace_;
  std::ostream& out_;
  replay_report& report_;
  hub_runtime* hub_ = nullptr;
  recorded_events recorded_;
  std::map<std::string, std::unique_ptr<replay_device>> devices_;
  std::set<std::string> kicked_;
  std::map<std::uint64_t, std::string> open_requests_;  // exchange -> path, until its response
  std::map<std::uint64_t, std::future<void>> calls_;
};

}  // namespace

std::vector<std::string> json_differences(const json& expected, const json& actual, const std::string& path) {
  std::vector<std::string> out;
  const std::string here = path.empty() ? "(value)" : path;
  if (expected.is_string() && expected.get<std::string>() == trace::redacted) return out;
  if (expected.is_object() && actual.is_object()) {
    const auto member = [&](const std::string& name) { return path.empty() ? name : path + "." + name; };
    for (const auto& [name, value] : expected.items()) {
      if (!actual.contains(name)) out.push_back(member(name) + ": " + value.dump() + " != (absent)");
      else for (auto& d : json_differences(value, actual[name], member(name))) out.push_back(std::move(d));
    }
    for (const auto& [name, value] : actual.items())
      if (!expected.contains(name)) out.push_back(member(name) + ": (absent) != " + value.dump());
    return out;
  }
  if (expected.is_array() && actual.is_array()) {
    const std::size_t common = std::min(expected.size(), actual.size());
    for (std::size_t i = 0; i < common; ++i)
      for (auto& d : json_differences(expected[i], actual[i], path + "[" + std::to_string(i) + "]")) out.push_back(std::move(d));
    if (expected.size() != actual.size())
      out.push_back(here + ": " + std::to_string(expected.size()) + " items != " + std::to_string(actual.size()) + " items");
    return out;
  }
  if (expected != actual) out.push_back(here + ": " + expected.dump() + " != " + actual.dump());
  return out;
}

replay_report replay_trace(const replay_options& options, std::ostream& out) {
  replay_report report;
  trace_contents contents;
  try {
    contents = read_trace(options.trace);
  } catch (const unreadable& u) {
    report.outcome = replay_outcome::unreadable;
    report.error = options.trace.string() + ": " + u.reason;
    out << report.error << "\n";
    return report;
  }
  replayer(options, contents, out, report).run();
  if (!report.differences.empty()) report.outcome = replay_outcome::different;
  out << options.trace.string() << ": replayed " << report.events << " of " << contents.events.size() << " events";
  if (options.verify)
    out << (report.differences.empty() ? ", identical" : ", " + std::to_string(report.differences.size()) + " different");
  out << "\n";
  return report;
}

}  // namespace mockhub::server
