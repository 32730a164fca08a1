#include "mock_hub/server/mosquitto_conf.hpp"

#include <catch2/catch.hpp>

using mockhub::server::mosquitto_conf;

TEST_CASE("mosquitto.conf for a plugin broker with plain and TLS listeners", "[integration][broker][conf]") {
  const mosquitto_conf conf{
      .listeners = {{.port = 41001, .address = "127.0.0.1"},
                    {.port = 41001, .address = "::1"},
                    {.port = 41002, .address = "127.0.0.1", .tls = true}},
      .cafile = "/data/ca.pem",
      .certfile = "/data/server.pem",
      .keyfile = "/data/server-key.pem",
      .plugin = "/build/lib/mockhub_broker_plugin.so",
      .plugin_options = {{"hub_secret", "s3cret"}, {"hub_client_id", "$hub"}},
      .user = "alice",
  };
  CHECK(conf.text() ==
        "# Written by mockhub's broker launcher at every start; edits are lost.\n"
        "per_listener_settings false\n"
        "persistence false\n"
        "set_tcp_nodelay true\n"
        "allow_anonymous false\n"
        "max_keepalive 1767\n"
        "connection_messages true\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
        "log_type notice\n"
        "log_type information\n"
        "log_timestamp true\n"
        "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
        "user alice\n"
        "\n"
        "plugin /build/lib/mockhub_broker_plugin.so\n"
        "plugin_opt_hub_client_id $hub\n"
        "plugin_opt_hub_secret s3cret\n"
        "\n"
        "listener 41001 127.0.0.1\n"
        "\n"
        "listener 41001 ::1\n"
        "\n"
        "listener 41002 127.0.0.1\n"
        "cafile /data/ca.pem\n"
        "certfile /data/server.pem\n"
        "keyfile /data/server-key.pem\n"
        "require_certificate false\n"
        "tls_version tlsv1.2\n");
}

TEST_CASE("mosquitto.conf without a plugin allows anonymous clients and names no user when asked", "[integration][broker][conf]") {
  const mosquitto_conf conf{.listeners = {{.port = 41001}}};
  const std::string text = conf.text();
  CHECK_THAT(text, Catch::Matchers::Contains("allow_anonymous true\n"));
  CHECK_THAT(text, !Catch::Matchers::Contains("plugin"));
  CHECK_THAT(text, !Catch::Matchers::Contains("\nuser "));
}

TEST_CASE("mosquitto.conf caps every listener's QoS when asked", "[integration][broker][conf]") {
  const mosquitto_conf conf{.listeners = {{.port = 41001}, {.port = 41001, .address = "::1"}}, .max_qos = 1};
  CHECK_THAT(conf.text(), Catch::Matchers::EndsWith("listener 41001 127.0.0.1\nmax_qos 1\n\nlistener 41001 ::1\nmax_qos 1\n"));
  CHECK_THROWS_WITH((mosquitto_conf{.listeners = {{.port = 41001}}, .max_qos = 3}.text()),
                    Catch::Matchers::Contains("max_qos must be 0, 1 or 2"));
}

TEST_CASE("mosquitto.conf refuses what would break its line format", "[integration][broker][conf]") {
  mosquitto_conf conf{.listeners = {{.port = 41001}}, .plugin = "/p.so"};
  SECTION("a line break in a plugin option value") {
    conf.plugin_options = {{"secret", "x\nallow_anonymous true"}};
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("line break"));
  }
  SECTION("a plugin option key that is not a word") {
    conf.plugin_options = {{"a b", "x"}};
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("is not [A-Za-z0-9_]+"));
  }
  SECTION("an empty plugin option value") {
    conf.plugin_options = {{"secret", ""}};
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("is empty"));
  }
  SECTION("plugin options without a plugin") {
    conf.plugin = "";
    conf.plugin_options = {{"secret", "x"}};
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("without a plugin"));
  }
  SECTION("a TLS listener without certificate files") {
    conf.listeners = {{.port = 41002, .tls = true}};
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("cafile is not set"));
  }
  SECTION("a max_keepalive mosquitto 2.0.11 rejects") {
    conf.max_keepalive = 5;
    CHECK_THROWS_AS(conf.text(), std::invalid_argument);
    CHECK_THROWS_WITH(conf.text(), Catch::Matchers::Contains("max_keepalive"));
  }
}
