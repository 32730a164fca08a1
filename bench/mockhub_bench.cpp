// `mockhub_bench`: the benchmarks of issue 9 (bench/README.md), one markdown table on stdout,
// progress on stderr. bench/run builds a Release tree and runs it.
//
//   mockhub_bench [--only B1,B2,B3,B4,B5,B6] [--reps N] [--registered N] [--connected N]
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "bench/bench_table.hpp"
#include "bench/benches.hpp"
#include "bench/raw_pingpong.hpp"

using namespace mockhub::bench;

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown cpu";
}

int usage() {
  std::fprintf(stderr, "usage: mockhub_bench [--only B1,B2,B3,B4,B5,B6] [--reps N] [--registered N] [--connected N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "raw-responders") == 0)  // raw_pingpong's child process
    return run_raw_responders(static_cast<std::uint16_t>(std::stoul(argv[2])), std::stoul(argv[3]));
  bench_config c;
  std::string only = "B1,B2,B3,B4,B5,B6";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage();
      const std::string v = argv[++i];
      if (a == "--only") only = v;
      else if (a == "--reps") c.reps = std::stoi(v);
      else if (a == "--registered") c.registered = std::stoul(v);
      else if (a == "--connected") c.connected = std::stoul(v);
      else return usage();
    }
  } catch (const std::exception&) {
    return usage();
  }
  if (c.reps < 1 || c.connected < 1) return usage();
  const auto want = [&](const char* b) { return only.find(b) != std::string::npos; };
  c.bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();

  char when[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  utsname u{};
  ::uname(&u);
  double load[3] = {0, 0, 0};
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = load[1] = load[2] = 0;
    std::fclose(f);
  }
  std::printf("mockhub benchmarks, %s; %s, %u cores, %s %s; load average %.2f %.2f %.2f at start\n", when, cpu_model().c_str(),
              std::thread::hardware_concurrency(), u.sysname, u.release, load[0], load[1], load[2]);
  std::printf("%d runs per figure (median, min, max); %zu registered, %zu connected devices\n\n", c.reps, c.registered, c.connected);
  print_header();
  try {
    if (want("B3")) run_b3_query(c);
    if (want("B5")) run_b5_startup(c);
    if (want("B1") || want("B2") || want("B4") || want("B6")) run_hub_benches(c, want("B1"), want("B2"), want("B4"), want("B6"));
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mockhub_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
