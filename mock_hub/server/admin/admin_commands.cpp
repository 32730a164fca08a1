#include "admin_commands.hpp"

#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "hub_locator.hpp"
#include "job_progress.hpp"
#include "mock_hub/core/time_format.hpp"
#include "service/extension_client.hpp"
#include "service/service_client.hpp"
#include "table.hpp"

namespace mockhub::server::admin {

namespace svc = mockhub::service;
using nlohmann::json;

namespace {

// What every verb takes: where the hub is and how to print. One instance serves all verbs:
// only one of them runs.
struct common_options {
  std::string data_dir = ".mockhub";
  std::string connection_string;
  std::string rest_url;
  std::string ca_file;
  std::string output = "json";
  CLI::Option* data_dir_option = nullptr;
};

// A verb's body: talks to the hub through `hub` (made on first use, so option errors come first)
// and returns the exit code.
struct context {
  common_options& common;
  std::unique_ptr<svc::service_client> client{};
  hub_address address{};

  svc::service_client& hub() {
    if (!client) {
      address = locate_hub({.data_dir = common.data_dir,
                            .data_dir_given = common.data_dir_option->count() > 0,
                            .connection_string = common.connection_string,
                            .rest_url = common.rest_url,
                            .ca_file = common.ca_file});
      client = std::make_unique<svc::service_client>(address.connection_string, options());
    }
    return *client;
  }
  svc::client_options options() {
    try {
      return client_options_for(address);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--rest-url: ") + e.what());
    }
  }
  std::unique_ptr<svc::extension_client> extension() {
    hub();
    return std::make_unique<svc::extension_client>(address.connection_string, options());
  }
  bool table() const { return common.output == "table"; }
  // Prints `document` as JSON, or as a table under `columns`.
  void print(const json& document, const std::vector<column>& columns) const {
    if (table()) print_table(std::cout, document, columns);
    else std::cout << document.dump(2) << '\n';
  }
};

using verb = std::function<int(context&)>;

// Runs a verb, turning every failure into its message on stderr and its exit code.
int run(common_options& common, const verb& body) {
  context ctx{.common = common};
  try {
    return body(ctx);
  } catch (const usage_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const hub_not_found& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  } catch (const bad_hub_file& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  } catch (const svc::iothub_error& e) {
    std::cerr << "error: " << e.http_status() << ' ' << e.error_code() << ' ' << e.error_name() << ": " << e.message() << '\n';
    return 1;
  } catch (const svc::network_error& e) {
    std::cerr << "error: no answer from the hub at " << (ctx.client ? ctx.client->base_url() : ctx.address.rest_url) << " ("
              << ctx.address.source << "): " << e.what() << '\n';
    return 1;
  } catch (const std::invalid_argument& e) {
    // The service client's constructor: a connection string, key or CA file that cannot work.
    std::cerr << "error: " << (ctx.address.source.empty() ? std::string("--connection-string") : ctx.address.source) << ": "
              << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

CLI::App* add_verb(CLI::App& parent, const std::string& name, const std::string& description, common_options& common,
                   int& exit_code, verb body) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  auto* data_dir = cmd->add_option("--data-dir", common.data_dir,
                                   "Data directory of a hub started with `mockhub start` (its hub.json); default ./.mockhub")
                       ->envname("MOCKHUB_DATA_DIR");
  cmd->add_option("--connection-string,--login", common.connection_string,
                  "Service connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...) instead of hub.json")
      ->envname("IOTHUB_CONNECTION_STRING");
  cmd->add_option("--rest-url", common.rest_url, "Where the hub's REST API listens, e.g. http://127.0.0.1:8080 (with --connection-string)")
      ->envname("MOCKHUB_REST_URL");
  cmd->add_option("--ca-file", common.ca_file, "CA certificate (PEM) of an https --rest-url")->envname("MOCKHUB_CA_FILE");
  cmd->add_option("-o,--output", common.output, "json (what the REST API returned) or table")
      ->check(CLI::IsMember({"json", "table"}));
  cmd->callback([&common, &exit_code, body = std::move(body), data_dir] {
    common.data_dir_option = data_dir;
    exit_code = run(common, body);
  });
  return cmd;
}

json parse_json_option(const std::string& option, const std::string& text) {
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) throw usage_error(option + ": not valid JSON: " + text);
  return value;
}

const std::vector<column> device_columns = {
    {"DeviceId", "/deviceId"},           {"Status", "/status"},
    {"ConnectionState", "/connectionState"}, {"Authentication", "/authentication/type"},
    {"C2DMessages", "/cloudToDeviceMessageCount"}, {"LastActivityTime", "/lastActivityTime"},
    {"Etag", "/etag"}};

const std::vector<column> twin_columns = {
    {"DeviceId", "/deviceId"}, {"Etag", "/etag"},   {"Version", "/version"},
    {"Status", "/status"},     {"Tags", "/tags"},   {"Desired", "/properties/desired"},
    {"Reported", "/properties/reported"}};

const std::vector<column> job_columns = {
    {"JobId", "/jobId"},         {"Type", "/type"},
    {"Status", "/status"},       {"StartTime", "/startTime"},
    {"EndTime", "/endTime"},  {"Devices", "/deviceJobStatistics/deviceCount"},
    {"Succeeded", "/deviceJobStatistics/succeededCount"}, {"Failed", "/deviceJobStatistics/failedCount"},
    {"Pending", "/deviceJobStatistics/pendingCount"},     {"Running", "/deviceJobStatistics/runningCount"}};

// A twin for the table: without the `$metadata` sections, which drown the values.
json twin_for_table(json twin) {
  if (twin.contains("properties"))
    for (const char* side : {"desired", "reported"})
      if (twin["properties"].contains(side) && twin["properties"][side].is_object()) twin["properties"][side].erase("$metadata");
  return twin;
}

// Polls the job until it finishes, drawing progress on stderr; returns the last state.
svc::job_response watch_job(svc::service_client& hub, const std::string& job_id, double poll_seconds) {
  job_progress progress(std::cerr, ::isatty(STDERR_FILENO) == 1);
  const svc::job_response last = hub.jobs().wait_for_completion(
      job_id, {.poll_interval = std::chrono::milliseconds(static_cast<long long>(poll_seconds * 1000)),
               .on_progress = [&](const svc::job_response& j) {
                 if (!j.finished()) progress.update(j);
               }});
  progress.finish(last);
  return last;
}

int finished_job(context& ctx, const svc::job_response& job) {
  ctx.print(job.document, job_columns);
  return job.status == svc::job_status::completed ? 0 : 1;
}

void add_device_verbs(CLI::App& app, common_options& common, int& exit_code) {
  CLI::App* device = app.add_subcommand("device", "Device identities (az iot hub device-identity)");
  device->require_subcommand(1);

  struct create_options {
    std::string device_id, primary_key, secondary_key, status = "enabled", status_reason;
    bool edge = false;
  };
  auto create = std::make_shared<create_options>();
  CLI::App* c = add_verb(*device, "create", "Create a device identity with SAS keys (generated unless given)", common, exit_code,
                         [create](context& ctx) {
                           svc::device d;
                           d.device_id = create->device_id;
                           d.primary_key = create->primary_key;
                           d.secondary_key = create->secondary_key;
                           d.status = create->status == "disabled" ? svc::device_status::disabled : svc::device_status::enabled;
                           d.status_reason = create->status_reason;
                           d.iot_edge = create->edge;
                           ctx.print(ctx.hub().registry().create_device(d).document, device_columns);
                           return 0;
                         });
  c->add_option("-d,--device-id", create->device_id, "Device id")->required();
  c->add_option("--primary-key,--pk", create->primary_key, "Primary SAS key (base64); default: generated by the hub");
  c->add_option("--secondary-key,--sk", create->secondary_key, "Secondary SAS key (base64); default: generated by the hub");
  c->add_option("--status,--sta", create->status, "enabled or disabled")->check(CLI::IsMember({"enabled", "disabled"}));
  c->add_option("--status-reason,--star", create->status_reason, "Why the status is what it is");
  c->add_flag("--edge-enabled,--ee", create->edge, "An IoT Edge device");

  auto id = std::make_shared<std::string>();
  CLI::App* s = add_verb(*device, "show", "Show a device identity", common, exit_code, [id](context& ctx) {
    ctx.print(ctx.hub().registry().get_device(*id).document, device_columns);
    return 0;
  });
  s->add_option("-d,--device-id", *id, "Device id")->required();

  auto top = std::make_shared<int>(1000);
  CLI::App* l = add_verb(*device, "list", "List device identities", common, exit_code, [top](context& ctx) {
    json list = json::array();
    for (const svc::device& d : ctx.hub().registry().list_devices(*top)) list.push_back(d.document);
    ctx.print(list, device_columns);
    return 0;
  });
  l->add_option("--top", *top, "At most this many devices (1-1000)")->check(CLI::Range(1, 1000));

  struct delete_options {
    std::string device_id, etag;
  };
  auto del = std::make_shared<delete_options>();
  CLI::App* d = add_verb(*device, "delete", "Delete a device identity (and its twin)", common, exit_code, [del](context& ctx) {
    ctx.hub().registry().delete_device(del->device_id, del->etag.empty() ? svc::if_match::any() : svc::if_match::etag(del->etag));
    return 0;
  });
  d->add_option("-d,--device-id", del->device_id, "Device id")->required();
  d->add_option("-e,--etag", del->etag, "Delete only if the identity still has this etag (412 otherwise); default: any");
}

void add_twin_verbs(CLI::App& app, common_options& common, int& exit_code) {
  CLI::App* twin = app.add_subcommand("twin", "Device twins (az iot hub device-twin)");
  twin->require_subcommand(1);

  auto id = std::make_shared<std::string>();
  CLI::App* s = add_verb(*twin, "show", "Show a device's twin", common, exit_code, [id](context& ctx) {
    const json document = ctx.hub().twins().get_twin(*id).document;
    ctx.print(ctx.table() ? twin_for_table(document) : document, twin_columns);
    return 0;
  });
  s->add_option("-d,--device-id", *id, "Device id")->required();

  struct update_options {
    std::string device_id, desired, tags, etag;
  };
  auto update = std::make_shared<update_options>();
  CLI::App* u = add_verb(*twin, "update", "Patch a twin's desired properties and tags (null deletes)", common, exit_code,
                         [update](context& ctx) {
                           if (update->desired.empty() && update->tags.empty())
                             throw usage_error("twin update: give --desired, --tags or both");
                           json patch = json::object();
                           if (!update->tags.empty()) patch["tags"] = parse_json_option("--tags", update->tags);
                           if (!update->desired.empty())
                             patch["properties"]["desired"] = parse_json_option("--desired", update->desired);
                           const svc::if_match version =
                               update->etag.empty() ? svc::if_match::any() : svc::if_match::etag(update->etag);
                           const json document = ctx.hub().twins().update_twin(update->device_id, patch, version).document;
                           ctx.print(ctx.table() ? twin_for_table(document) : document, twin_columns);
                           return 0;
                         });
  u->add_option("-d,--device-id", update->device_id, "Device id")->required();
  u->add_option("--desired", update->desired, "JSON object merged into properties.desired");
  u->add_option("--tags", update->tags, "JSON object merged into tags");
  u->add_option("-e,--etag", update->etag, "Update only if the twin still has this etag (412 otherwise); default: any");
}

void add_method_verb(CLI::App& app, common_options& common, int& exit_code) {
  struct method_options {
    std::string device_id, method_name, payload = "{}";
    int timeout = 30;
  };
  auto o = std::make_shared<method_options>();
  CLI::App* m = add_verb(app, "invoke-device-method", "Invoke a direct method on a device and print its answer", common,
                         exit_code, [o](context& ctx) {
                           const svc::method_request request{.method_name = o->method_name,
                                                             .payload = parse_json_option("--method-payload", o->payload),
                                                             .response_timeout = std::chrono::seconds(o->timeout)};
                           const svc::method_response answer = ctx.hub().invoke_method(o->device_id, request);
                           ctx.print(json{{"status", answer.status}, {"payload", answer.payload}},
                                     {{"Status", "/status"}, {"Payload", "/payload"}});
                           return 0;
                         });
  m->add_option("-d,--device-id", o->device_id, "Device id")->required();
  m->add_option("--method-name,--mn", o->method_name, "Method name")->required();
  m->add_option("--method-payload,--mp", o->payload, "Payload: any JSON value (default {})");
  m->add_option("--timeout,--to", o->timeout, "Seconds the device has to answer (5-300)");
}

void add_c2d_verb(CLI::App& app, common_options& common, int& exit_code) {
  CLI::App* c2d = app.add_subcommand("c2d-message", "Cloud-to-device messages (az iot device c2d-message)");
  c2d->require_subcommand(1);
  struct send_options {
    std::string device_id, data = "Ping from mockhub", props, message_id, correlation_id, ack;
  };
  auto o = std::make_shared<send_options>();
  CLI::App* s = add_verb(*c2d, "send", "Queue a cloud-to-device message for a device (through mockhub's REST extension)",
                         common, exit_code, [o](context& ctx) {
                           const svc::cloud_to_device_message message{.body = o->data,
                                                                      .properties = parse_properties(o->props),
                                                                      .message_id = o->message_id,
                                                                      .correlation_id = o->correlation_id,
                                                                      .ack = o->ack};
                           const std::string id = ctx.extension()->send_cloud_to_device(o->device_id, message);
                           ctx.print(json{{"messageId", id}}, {{"MessageId", "/messageId"}});
                           return 0;
                         });
  s->add_option("-d,--device-id", o->device_id, "Device id")->required();
  s->add_option("--data,--da", o->data, "Message body (UTF-8 text)");
  s->add_option("-p,--props", o->props, "Application properties: \"a=1;b=2\"");
  s->add_option("--message-id,--mid", o->message_id, "Message id; default: generated by the hub");
  s->add_option("--correlation-id,--cid", o->correlation_id, "Correlation id");
  s->add_option("--ack", o->ack, "Feedback: none, positive, negative or full")
      ->check(CLI::IsMember({"none", "positive", "negative", "full"}));
}

void add_query_verb(CLI::App& app, common_options& common, int& exit_code) {
  struct query_options {
    std::string sql;
    int top = 1000;
  };
  auto o = std::make_shared<query_options>();
  CLI::App* q = add_verb(app, "query", "Run a query over twins or device jobs and print the results", common, exit_code,
                         [o](context& ctx) {
                           json results = json::array();
                           if (o->top != 0)
                             for (const json& item : ctx.hub().query(o->sql)) {
                               results.push_back(item);
                               if (o->top > 0 && static_cast<int>(results.size()) >= o->top) break;
                             }
                           ctx.print(results, columns_of(results));
                           return 0;
                         });
  q->add_option("-q,--query-command", o->sql, "The query, e.g. \"SELECT * FROM devices WHERE tags.building = 43\"")->required();
  q->add_option("--top", o->top, "At most this many results; -1: all (default 1000)")->check(CLI::Range(-1, 1000000));
}

void add_job_verbs(CLI::App& app, common_options& common, int& exit_code) {
  CLI::App* job = app.add_subcommand("job", "Scheduled jobs (az iot hub job)");
  job->require_subcommand(1);

  struct create_options {
    std::string job_id, job_type, query_condition, method_name, method_payload = "{}", twin_patch, start_time = "now";
    int response_timeout = 30, connect_timeout = 30, ttl = 3600;
    bool wait = false;
    double poll_interval = 1;
  };
  auto o = std::make_shared<create_options>();
  CLI::App* c = add_verb(*job, "create", "Schedule a direct method or a twin update over the devices a query selects", common,
                         exit_code, [o](context& ctx) {
                           std::optional<svc::time_point> start;
                           if (o->start_time != "now") {
                             start = core::parse_time(o->start_time);
                             if (!start) throw usage_error("--start-time: not an ISO-8601 time or `now`: " + o->start_time);
                           }
                           const bool method = o->job_type == "scheduleDeviceMethod";
                           if (method && o->method_name.empty())
                             throw usage_error("--method-name: needed by a scheduleDeviceMethod job");
                           if (!method && o->twin_patch.empty())
                             throw usage_error("--twin-patch: needed by a scheduleUpdateTwin job");
                           if (!method && !o->method_name.empty())
                             throw usage_error("--method-name: applies to scheduleDeviceMethod jobs only");
                           if (method && !o->twin_patch.empty())
                             throw usage_error("--twin-patch: applies to scheduleUpdateTwin jobs only");
                           svc::job_response created;
                           if (method) {
                             created = ctx.hub().jobs().schedule_device_method(
                                 {.job_id = o->job_id,
                                  .query_condition = o->query_condition,
                                  .method = {.method_name = o->method_name,
                                             .payload = parse_json_option("--method-payload", o->method_payload),
                                             .response_timeout = std::chrono::seconds(o->response_timeout),
                                             .connect_timeout = std::chrono::seconds(o->connect_timeout)},
                                  .start_time = start,
                                  .max_execution_time = std::chrono::seconds(o->ttl)});
                           } else {
                             created = ctx.hub().jobs().schedule_twin_update(
                                 {.job_id = o->job_id,
                                  .query_condition = o->query_condition,
                                  .patch = parse_json_option("--twin-patch", o->twin_patch),
                                  .start_time = start,
                                  .max_execution_time = std::chrono::seconds(o->ttl)});
                           }
                           if (!o->wait) {
                             ctx.print(created.document, job_columns);
                             return 0;
                           }
                           return finished_job(ctx, watch_job(ctx.hub(), o->job_id, o->poll_interval));
                         });
  c->add_option("-j,--job-id", o->job_id, "Job id (1-64 of A-Z a-z 0-9 -)")->required();
  c->add_option("--job-type,--jt", o->job_type, "scheduleDeviceMethod or scheduleUpdateTwin")
      ->required()
      ->check(CLI::IsMember({"scheduleDeviceMethod", "scheduleUpdateTwin"}));
  c->add_option("-q,--query-condition", o->query_condition, "Which devices: a WHERE clause without WHERE, e.g. \"tags.building = 43\"")
      ->required();
  c->add_option("--method-name,--mn", o->method_name, "Method to invoke (scheduleDeviceMethod)");
  c->add_option("--method-payload,--mp", o->method_payload, "Method payload: any JSON value (default {})");
  c->add_option("--method-response-timeout,--mrt", o->response_timeout, "Seconds each device has to answer (default 30)");
  c->add_option("--method-connect-timeout,--mct", o->connect_timeout, "Seconds to wait for an offline device (default 30)");
  c->add_option("--twin-patch,--patch", o->twin_patch, "Twin patch (scheduleUpdateTwin), e.g. {\"properties\":{\"desired\":{\"floor\":3}}}");
  c->add_option("--start-time,--start", o->start_time, "When the job starts: ISO 8601 (2026-01-01T10:00:00Z) or now (default)");
  c->add_option("--ttl", o->ttl, "Maximum execution time in seconds (default 3600)");
  c->add_flag("-w,--wait", o->wait, "Watch the job until it finishes; exit 0 when it completed, 1 otherwise");
  c->add_option("--poll-interval,--interval", o->poll_interval, "Seconds between polls with --wait (default 1)")
      ->check(CLI::PositiveNumber);

  auto id = std::make_shared<std::string>();
  CLI::App* s = add_verb(*job, "show", "Show a job", common, exit_code, [id](context& ctx) {
    ctx.print(ctx.hub().jobs().get_job(*id).document, job_columns);
    return 0;
  });
  s->add_option("-j,--job-id", *id, "Job id")->required();

  struct list_options {
    std::string type, status;
    int top = -1;
  };
  auto l_opts = std::make_shared<list_options>();
  CLI::App* l = add_verb(*job, "list", "List jobs, optionally of one type and status", common, exit_code, [l_opts](context& ctx) {
    svc::job_filter filter;
    if (!l_opts->type.empty()) filter.type = svc::parse_job_type(l_opts->type);
    if (!l_opts->status.empty()) filter.status = svc::parse_job_status(l_opts->status);
    json list = json::array();
    if (l_opts->top != 0)
      for (const svc::job_response& j : ctx.hub().jobs().query_jobs(filter)) {
        list.push_back(j.document);
        if (l_opts->top > 0 && static_cast<int>(list.size()) >= l_opts->top) break;
      }
    ctx.print(list, job_columns);
    return 0;
  });
  l->add_option("--job-type,--jt", l_opts->type, "scheduleDeviceMethod or scheduleUpdateTwin")
      ->check(CLI::IsMember({"scheduleDeviceMethod", "scheduleUpdateTwin"}));
  l->add_option("--job-status,--js", l_opts->status, "queued, scheduled, running, completed, failed or cancelled")
      ->check(CLI::IsMember({"enqueued", "queued", "scheduled", "running", "completed", "failed", "cancelled"}));
  l->add_option("--top", l_opts->top, "At most this many jobs; -1: all (default)")->check(CLI::Range(-1, 1000000));

  auto cancel_id = std::make_shared<std::string>();
  CLI::App* x = add_verb(*job, "cancel", "Cancel a job that has not finished", common, exit_code, [cancel_id](context& ctx) {
    ctx.print(ctx.hub().jobs().cancel_job(*cancel_id).document, job_columns);
    return 0;
  });
  x->add_option("-j,--job-id", *cancel_id, "Job id")->required();

  struct watch_options {
    std::string job_id;
    double poll_interval = 1;
  };
  auto w_opts = std::make_shared<watch_options>();
  CLI::App* w = add_verb(*job, "watch",
                         "Follow a job until it finishes: a progress bar on a terminal, a line per change otherwise "
                         "(stderr); then the job (stdout). Exit 0 when it completed, 1 when it failed or was cancelled",
                         common, exit_code, [w_opts](context& ctx) {
                           return finished_job(ctx, watch_job(ctx.hub(), w_opts->job_id, w_opts->poll_interval));
                         });
  w->add_option("-j,--job-id", w_opts->job_id, "Job id")->required();
  w->add_option("--poll-interval,--interval", w_opts->poll_interval, "Seconds between polls (default 1)")
      ->check(CLI::PositiveNumber);
}

}  // namespace

std::map<std::string, std::string> parse_properties(std::string_view text) {
  std::map<std::string, std::string> properties;
  while (!text.empty()) {
    const std::size_t end = text.find(';');
    const std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw usage_error("--props: `" + std::string(pair) + "` is not key=value (expected \"a=1;b=2\")");
    properties[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  return properties;
}

void add_admin_commands(CLI::App& app, int& exit_code) {
  // Lives as long as the process: the verbs' callbacks write into it after main's parse.
  static common_options common;
  add_device_verbs(app, common, exit_code);
  add_twin_verbs(app, common, exit_code);
  add_method_verb(app, common, exit_code);
  add_c2d_verb(app, common, exit_code);
  add_query_verb(app, common, exit_code);
  add_job_verbs(app, common, exit_code);
}

}  // namespace mockhub::server::admin
