// One descriptor per client instead of three.
//
// libmosquitto 2.0.11 opens a socket pair for every client (in mosquitto_new and again on every
// connect) only so that another thread can interrupt the select() of its own network loop. This
// library never runs that loop for a connected client, so the pair is dead weight: with three
// descriptors per client, 10,000 simulated devices need 30,000, above the 20,000 hard limit a
// process may have without CAP_SYS_RESOURCE. libmosquitto treats a failed socketpair() as a
// warning and carries on without it ("outgoing publish commands may be delayed", which concerns
// only its own loop), so the client makes the calls it causes fail: this definition interposes on
// the C library's socketpair() for the whole program, but refuses only while the calling thread is
// inside `no_socketpair_scope`; every other caller (the hub's broker link, which does run
// libmosquitto's loop) gets the real one.
#include <dlfcn.h>
#include <sys/socket.h>

#include <cerrno>

#include "socketpair_shim.hpp"

namespace mockhub::device::detail {

namespace {
thread_local int refusing = 0;
}

no_socketpair_scope::no_socketpair_scope() noexcept { ++refusing; }
no_socketpair_scope::~no_socketpair_scope() { --refusing; }

}  // namespace mockhub::device::detail

extern "C" int socketpair(int domain, int type, int protocol, int fds[2]) __THROW {
  if (mockhub::device::detail::refusing > 0) {
    errno = EMFILE;
    return -1;
  }
  using real_fn = int (*)(int, int, int, int*);
  static const real_fn real = reinterpret_cast<real_fn>(::dlsym(RTLD_NEXT, "socketpair"));
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  return real(domain, type, protocol, fds);
}
