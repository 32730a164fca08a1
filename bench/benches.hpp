// The benchmarks of issue 9 (bench/README.md): each runs its repetitions and prints its rows.
#pragma once

#include <cstddef>
#include <filesystem>

namespace mockhub::bench {

struct bench_config {
  int reps = 5;                     ///< repetitions per figure
  std::size_t registered = 100'000; ///< B2, B4: registered devices
  std::size_t connected = 10'000;   ///< B1, B2, B4, B6: connected simulated devices
  std::size_t window = 1000;        ///< B1 raw baseline: requests in flight (the job engine's max_in_flight)
  std::filesystem::path bin_dir;    ///< where `mockhub` and `fleet` are (this program's directory)
};

/// B3: three query shapes over 100,000 twins, mockhub's engine against SQLite's json_extract.
void run_b3_query(const bench_config& c);
/// B5: `mockhub start` until MQTT and REST accept, and `mockhub stop`.
void run_b5_startup(const bench_config& c);
/// B4, B1, B2, B6 on one in-process hub with `registered` devices, `connected` of them online.
void run_hub_benches(const bench_config& c, bool b1, bool b2, bool b4, bool b6);

}  // namespace mockhub::bench
