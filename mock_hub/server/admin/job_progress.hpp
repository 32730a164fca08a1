// How `mockhub job watch` (and `job create --wait`) shows a job moving: a progress bar redrawn in
// place on a terminal, one plain line per change otherwise (logs, CI).
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "service/job.hpp"

namespace mockhub::server::admin {

/// "job lock-all running: 3/10 devices done (2 succeeded, 1 failed, 5 pending, 2 running)".
std::string progress_line(const service::job_response& job);

/// "lock-all [############------------]  3/10 running (2 ok, 1 failed)", `width` cells of bar.
std::string progress_bar(const service::job_response& job, int width = 30);

/// Writes a job's states as they change: on a terminal one bar redrawn with '\r', otherwise one
/// line per change. Repeated identical states print nothing.
class job_progress {
 public:
  job_progress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  void update(const service::job_response& job);
  /// Ends the bar's line (terminal) and writes the final status and statistics.
  void finish(const service::job_response& job);

 private:
  std::ostream& out_;
  bool terminal_;
  std::optional<std::string> last_;
};

}  // namespace mockhub::server::admin
