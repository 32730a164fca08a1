// Raising the open-file limit for programs that hold thousands of device connections (`fleet`,
// the soak): about three descriptors per simulated device (libmosquitto's socket and socket pair).
// Not a public header of the device library.
#pragma once

#include <cstdint>

namespace mockhub::device::fleet {

/// Raises the soft RLIMIT_NOFILE to `wanted` (and the hard one where allowed, as root), else to
/// the hard limit. Returns the soft limit now in force.
std::uint64_t raise_open_files(std::uint64_t wanted);

}  // namespace mockhub::device::fleet
