// The device channel seam of the hub core, mocked with trompeloeil: what the hub pushes to
// devices is expected or forbidden call by call.
#pragma once

#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <string_view>

#include "mock_hub/core/device_channel.hpp"

namespace mockhub::testing {

class mock_device_channel final : public core::device_channel {
 public:
  MAKE_MOCK2(send_desired_patch, void(std::string_view, const nlohmann::json&), override);
  MAKE_MOCK4(send_method_request, void(std::string_view, std::string_view, std::string_view, const nlohmann::json&),
             override);
  MAKE_MOCK2(send_cloud_to_device, void(std::string_view, const core::cloud_to_device_message&), override);
  MAKE_MOCK2(identity_changed, void(std::string_view, const core::device_identity*), override);
  MAKE_MOCK1(disconnect, void(std::string_view), override);
  MAKE_MOCK0(flush, void(), override);
};

}  // namespace mockhub::testing
