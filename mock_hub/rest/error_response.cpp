#include "error_response.hpp"

#include <chrono>
#include <cstdio>

namespace mockhub::rest {

std::string error_message_field(const core::hub_error& e) {
  std::string text(e.message());
  for (char& c : text)
    if (c == ';') c = ',';
  return "ErrorCode:" + e.name() + ";" + text + ";errorCode:" + std::to_string(e.code());
}

std::string tracking_timestamp(core::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02u/%02u/%04d %02d:%02d:%02d", static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

nlohmann::json error_body(const core::hub_error& e, std::string_view tracking_id, core::time_point now) {
  return {{"Message", error_message_field(e)},
          {"ExceptionMessage", "Tracking ID:" + std::string(tracking_id) + "-G:0-TimeStamp:" + tracking_timestamp(now)}};
}

}  // namespace mockhub::rest
