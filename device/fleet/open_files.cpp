#include "open_files.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace mockhub::device::fleet {

std::uint64_t raise_open_files(std::uint64_t wanted) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= wanted) return rl.rlim_cur;
  std::uint64_t nr_open = wanted;
  if (std::ifstream f("/proc/sys/fs/nr_open"); f) f >> nr_open;
  rlimit want = rl;
  want.rlim_cur = std::min<std::uint64_t>(wanted, nr_open);
  if (want.rlim_max < want.rlim_cur) want.rlim_max = want.rlim_cur;
  if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
    want.rlim_cur = rl.rlim_max;  // not allowed to raise the hard limit: take what there is
    want.rlim_max = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &want);
  }
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

}  // namespace mockhub::device::fleet
