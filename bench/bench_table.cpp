#include "bench_table.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace mockhub::bench {

double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto last = values.size() - 1;
  return values[std::min(last, static_cast<std::size_t>(q * static_cast<double>(last) + 0.5))];
}

double samples::median() const {
  auto v = values;
  return quantile(v, 0.5);
}
double samples::min() const { return values.empty() ? 0 : *std::min_element(values.begin(), values.end()); }
double samples::max() const { return values.empty() ? 0 : *std::max_element(values.begin(), values.end()); }

namespace {
std::string number(double v) {
  char buf[64];
  if (v >= 1000) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v >= 10) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

void print_header() {
  std::printf("| bench | figure | unit | median | min | max | runs | ratio | note |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|---|\n");
  std::fflush(stdout);
}

void print_row(const std::string& bench, const std::string& figure, const std::string& unit, const samples& s,
               std::optional<double> ratio, const std::string& note) {
  char r[32] = "";
  if (ratio) std::snprintf(r, sizeof r, "%.2f", *ratio);
  std::printf("| %s | %s | %s | %s | %s | %s | %zu | %s | %s |\n", bench.c_str(), figure.c_str(), unit.c_str(),
              number(s.median()).c_str(), number(s.min()).c_str(), number(s.max()).c_str(), s.values.size(), r, note.c_str());
  std::fflush(stdout);
}

std::uint64_t rss_kib(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status") : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

std::map<std::string, std::uint64_t> cpu_ns_by_thread(int pid) {
  std::map<std::string, std::uint64_t> out;
  const std::filesystem::path tasks = pid == 0 ? "/proc/self/task" : "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream sched(t.path() / "schedstat"), comm(t.path() / "comm");
    std::uint64_t ns = 0;
    std::string name;
    if (!(sched >> ns) || !std::getline(comm, name)) continue;  // the thread ended meanwhile
    out[name] += ns;
  }
  return out;
}

}  // namespace mockhub::bench
