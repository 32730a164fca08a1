// The tutorial's simulated device (simDevice.py of "Schedule and broadcast jobs"), rebuilt on the
// mockhub device library: a `lockDoor` direct method that prints and answers 200, and a
// desired-properties callback that prints the patch. It reconnects on its own and stops on
// Ctrl-C (SIGINT) or SIGTERM with exit code 0.
//
//   door_lock [--ca FILE] [--plain] [--host HOST] [--port PORT] [CONNECTION_STRING]
//
// The connection string comes from the argument or MOCKHUB_DEVICE_CONNECTION_STRING (or
// IOTHUB_DEVICE_CONNECTION_STRING); the CA file from --ca or MOCKHUB_CA_FILE. Without a CA file
// the system's trust store is used. Exit codes: 0 stopped by a signal, 1 the hub refused the
// credentials (or gave up), 2 bad arguments.
#include <mockhub/device/client.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <pthread.h>
#include <string>
#include <unistd.h>

using namespace mockhub::device;

namespace {

int usage(const char* why) {
  std::cerr << "door_lock: " << why << "\n"
            << "usage: door_lock [--ca FILE] [--plain] [--host HOST] [--port PORT] [CONNECTION_STRING]\n"
            << "  CONNECTION_STRING defaults to $MOCKHUB_DEVICE_CONNECTION_STRING or $IOTHUB_DEVICE_CONNECTION_STRING;\n"
            << "  --ca defaults to $MOCKHUB_CA_FILE; --plain uses MQTT without TLS (local hubs only).\n";
  return 2;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::cout << std::unitbuf;  // line by line, also into a file
  std::string text, ca, host;
  bool plain = false;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (a == "--ca") {
      const char* v = value("--ca");
      if (!v) return usage("--ca needs a file");
      ca = v;
    } else if (a == "--plain") {
      plain = true;
    } else if (a == "--host") {
      const char* v = value("--host");
      if (!v) return usage("--host needs a name");
      host = v;
    } else if (a == "--port") {
      const char* v = value("--port");
      if (!v) return usage("--port needs a number");
      port = std::atoi(v);
      if (port <= 0 || port > 65535) return usage("--port must be 1..65535");
    } else if (a == "-h" || a == "--help") {
      usage("help");
      return 0;
    } else if (a.starts_with("--")) {
      return usage(("unknown option " + a).c_str());
    } else if (text.empty()) {
      text = a;
    } else {
      return usage("more than one connection string");
    }
  }
  if (text.empty()) {
    if (const char* v = env("MOCKHUB_DEVICE_CONNECTION_STRING")) text = v;
    else if (const char* w = env("IOTHUB_DEVICE_CONNECTION_STRING")) text = w;
    else return usage("no connection string");
  }
  if (ca.empty())
    if (const char* v = env("MOCKHUB_CA_FILE")) ca = v;

  connection_string cs;
  try {
    cs = connection_string::parse(text);
  } catch (const connection_string_error& e) {
    return usage(e.what());
  }

  // Signals are taken by sigwait below, so every thread (the client's too) must block them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // the client's "gave up" (see the connection handler)
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::cout << "Starting the mockhub door lock sample...\n"
            << "    Protocol MQTT" << (plain ? "" : " over TLS") << "\n"
            << "    Device " << cs.device_id << " at " << (host.empty() ? cs.connect_host() : host) << "\n";

  client_options options;
  options.tls.enabled = !plain;
  options.tls.ca_file = ca;
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
  client device(cs, options);

  device.on_method("lockDoor", [](const method_request& request) {
    std::cout << "Locking Door!" << (request.payload.is_null() ? "" : " payload: " + request.payload.dump()) << "\n";
    return method_response{200, {{"Response", "lockDoor called successfully"}}};
  });
  device.on_desired_properties([](const nlohmann::json& desired, twin_update_state state) {
    std::cout << "\nTwin callback called with:\n"
              << "update state: " << (state == twin_update_state::complete ? "COMPLETE" : "PARTIAL") << "\n"
              << "payload: " << desired.dump() << "\n";
  });
  device.on_connection_status([](const connection_event& e) {
    std::cout << "Connection: " << to_string(e.status) << " (" << to_string(e.reason) << ")"
              << (e.detail.empty() ? "" : ": " + e.detail) << "\n";
    if (e.status == connection_status::disconnected && e.reason != connection_reason::client_close) ::kill(::getpid(), SIGUSR1);
  });
  device.connect();

  std::cout << "Direct method initialized.\n"
            << "Device twin callback initialized.\n"
            << "Waiting for commands, press Ctrl-C to exit\n";

  int sig = 0;
  sigwait(&signals, &sig);
  if (sig == SIGUSR1) {
    std::cout << "The hub refused this device or the client gave up; stopping\n";
    return 1;
  }
  std::cout << "Stopping (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")\n";
  device.close().wait_for(std::chrono::seconds(5));
  std::cout << "Door lock sample stopped\n";
  return 0;
}
