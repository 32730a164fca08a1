#include "hub_locator.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mockhub::server::admin {

namespace {

std::string how_to_start(const std::filesystem::path& data_dir) {
  return "start one with `mockhub start --data-dir " + data_dir.string() +
         "` (add --detach to get the shell back), or point at a hub with --data-dir, or with "
         "--connection-string and --rest-url";
}

bool process_exists(long pid) {
  if (pid <= 0) return false;
  // EPERM: it exists but belongs to someone else (still a running hub).
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string string_member(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

hub_address from_hub_file(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = data_dir / "hub.json";
  std::ifstream in(file);
  if (!in) throw hub_not_found("no mockhub runs in " + data_dir.string() + " (no " + file.string() + "); " + how_to_start(data_dir));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json hub = nlohmann::json::parse(text.str(), nullptr, false);
  if (!hub.is_object()) throw bad_hub_file(file.string() + " is not a JSON object as `mockhub start` writes it");
  const auto pid = hub.find("pid");
  if (pid != hub.end() && pid->is_number_integer() && !process_exists(pid->get<long>()))
    throw hub_not_found("no mockhub runs in " + data_dir.string() + ": " + file.string() + " names pid " +
                        std::to_string(pid->get<long>()) + ", which has exited (a hub that did not stop cleanly); " +
                        how_to_start(data_dir));
  hub_address address{.connection_string = string_member(hub, "service_connection_string"),
                      .rest_url = string_member(hub, "rest_url"),
                      .ca_file = {},
                      .source = file.string()};
  if (address.connection_string.empty() || address.rest_url.empty())
    throw bad_hub_file(file.string() + " lacks service_connection_string or rest_url");
  // Plain HTTP on loopback needs no CA; an https rest_url (a hub without plain HTTP) does.
  if (address.rest_url.starts_with("https:")) address.ca_file = string_member(hub, "ca_file");
  return address;
}

}  // namespace

hub_address locate_hub(const hub_locator_options& options) {
  if (!options.data_dir_given && !options.connection_string.empty())
    return {.connection_string = options.connection_string,
            .rest_url = options.rest_url,
            .ca_file = options.ca_file,
            .source = "--connection-string"};
  return from_hub_file(options.data_dir);
}

service::client_options client_options_for(const hub_address& address) {
  service::client_options o;
  if (!address.rest_url.empty()) o.endpoint_override = service::endpoint::parse(address.rest_url);
  o.ca_file = address.ca_file;
  return o;
}

}  // namespace mockhub::server::admin
