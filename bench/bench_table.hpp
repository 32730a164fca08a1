// What every benchmark prints: one row per figure, the median of several runs with their min and
// max, and (where the figure has a reference measured in the same run) the ratio beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mockhub::bench {

using steady = std::chrono::steady_clock;

/// Milliseconds since `t`.
double ms_since(steady::time_point t);

/// The runs of one figure.
struct samples {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  double median() const;
  double min() const;
  double max() const;
};

/// The `q` quantile (0..1) of `values` (sorted in place); 0 when empty.
double quantile(std::vector<double>& values, double q);

/// Prints the table header (markdown) once.
void print_header();
/// `| B1 | method job, 10,000 devices | ops/s | median | min | max | runs | ratio | note |`
/// `ratio` is printed as e.g. "0.84 (vs raw)" when given.
void print_row(const std::string& bench, const std::string& figure, const std::string& unit, const samples& s,
               std::optional<double> ratio = std::nullopt, const std::string& note = {});

/// VmRSS of a process in KiB (/proc/<pid>/status); 0 when it cannot be read. pid 0: this process.
std::uint64_t rss_kib(int pid = 0);

/// The CPU time (ns) the threads of a process have run so far, by thread name (threads of one
/// name added; /proc/<pid>/task/*/schedstat and comm). pid 0: this process.
std::map<std::string, std::uint64_t> cpu_ns_by_thread(int pid = 0);

}  // namespace mockhub::bench
