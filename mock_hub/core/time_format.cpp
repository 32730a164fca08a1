#include "time_format.hpp"

#include <cstdio>

namespace mockhub::core {

namespace {
// Writes `value` as exactly `width` decimal digits at `out` (value < 10^width).
char* put_digits(char* out, long long value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  return out + width;
}
}  // namespace

std::string format_time(time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<nanoseconds>(t - day)};
  const auto ticks = (hms.subseconds().count() / 100);  // 100 ns units, as .NET
  const int y = static_cast<int>(ymd.year());
  if (y >= 0 && y <= 9999) {
    // Digit by digit: timestamps are written for every device message (lastActivityTime), and
    // snprintf's format parsing was a visible cost in bench B1.
    std::string s(28, '\0');
    char* p = s.data();
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
    *p++ = '-';
    p = put_digits(p, static_cast<unsigned>(ymd.day()), 2);
    *p++ = 'T';
    p = put_digits(p, hms.hours().count(), 2);
    *p++ = ':';
    p = put_digits(p, hms.minutes().count(), 2);
    *p++ = ':';
    p = put_digits(p, hms.seconds().count(), 2);
    *p++ = '.';
    p = put_digits(p, ticks, 7);
    *p = 'Z';
    return s;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%07lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<long long>(ticks));
  return buf;
}

std::string format_time(const std::optional<time_point>& t) { return t ? format_time(*t) : std::string(never_time); }

namespace {
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

std::optional<time_point> parse_time(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  // system_clock's nanosecond ticks reach from 1677 to 2262.
  if (y < 1678 || y > 2261) return std::nullopt;
  std::size_t pos = 19;
  nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    long long scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += nanoseconds{(s[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  minutes offset{0};
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) return std::nullopt;
      offset = hours{oh} + minutes{om};
      if (s[pos] == '-') offset = -offset;
      pos = s.size();
    } else {
      return std::nullopt;
    }
  }
  const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + frac - offset;
  return time_point{duration_cast<duration>(t.time_since_epoch())};
}

}  // namespace mockhub::core
