// See socketpair_shim.cpp: while one of these lives on a thread, libmosquitto's socketpair()
// calls on that thread fail, and the client it is creating or connecting goes without the pair.
#pragma once

namespace mockhub::device::detail {

struct no_socketpair_scope {
  no_socketpair_scope() noexcept;
  ~no_socketpair_scope();
  no_socketpair_scope(const no_socketpair_scope&) = delete;
  no_socketpair_scope& operator=(const no_socketpair_scope&) = delete;
};

}  // namespace mockhub::device::detail
