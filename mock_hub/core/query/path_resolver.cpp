#include "path_resolver.hpp"

#include <vector>
#include <string_view>

#include "lexer.hpp"
#include "mock_hub/core/ascii.hpp"

namespace mockhub::core::query {
namespace {

// A node of a document's fixed schema. `open` nodes hold user-defined names below them.
struct schema {
  std::string_view name;
  std::vector<schema> children = {};
  bool open = false;
};

// The twin as `GET /twins/{id}` returns it (reference section 3.1).
const schema& twin_schema() {
  static const schema root{"", {
      {"deviceId"}, {"moduleId"}, {"etag"}, {"deviceEtag"}, {"status"}, {"statusReason"},
      {"statusUpdateTime"}, {"connectionState"}, {"lastActivityTime"}, {"cloudToDeviceMessageCount"},
      {"authenticationType"},
      {"x509Thumbprint", {{"primaryThumbprint"}, {"secondaryThumbprint"}}},
      {"version"}, {"modelId"},
      {"capabilities", {{"iotEdge"}}},
      {"deviceScope"}, {"parentScopes", {}, true},
      {"tags", {}, true},
      {"properties", {{"desired", {}, true}, {"reported", {}, true}}},
      {"configurations", {}, true},
  }};
  return root;
}

// The per-device job record (reference section 5.5).
const schema& job_schema() {
  static const schema root{"", {
      {"deviceId"}, {"moduleId"}, {"jobId"}, {"jobType"}, {"status"},
      {"startTimeUtc"}, {"endTimeUtc"}, {"createdDateTimeUtc"}, {"lastUpdatedDateTimeUtc"},
      {"outcome", {{"deviceMethodResponse", {{"status"}, {"payload", {}, true}}}}},
      {"error", {{"code"}, {"description"}}},
  }};
  return root;
}

std::vector<std::string> canonical(const schema& root, std::vector<std::string> path, bool jobs) {
  const schema* node = &root;
  for (auto& segment : path) {
    if (node == nullptr || node->open) break;
    const schema* found = nullptr;
    for (const schema& child : node->children) {
      if (iequals(child.name, segment)) {
        found = &child;
        break;
      }
    }
    if (found == nullptr && jobs && node == &root && iequals(segment, "createdTimeUtc")) {
      segment = "createdDateTimeUtc";  // the docs filter on createdTimeUtc; records carry createdDateTimeUtc
      break;
    }
    if (found == nullptr) break;  // an unknown name at a fixed level: kept as written (reads undefined)
    segment = std::string(found->name);
    node = found;
  }
  return path;
}

}  // namespace

std::vector<std::string> resolve_path(ast::collection from, const std::vector<std::string>& written) {
  if (from == ast::collection::jobs) {
    if (written.size() < 3 || !iequals(written[0], "devices") || !iequals(written[1], "jobs")) {
      throw_invalid_query("A devices.jobs query can only refer to devices.jobs.<property>, not '" + joined(written) +
                          "': conditions on the device twin are not supported.");
    }
    return canonical(job_schema(), std::vector<std::string>(written.begin() + 2, written.end()), true);
  }
  std::vector<std::string> path = written;
  if (path.size() > 1 && iequals(path[0], "devices")) path.erase(path.begin());
  return canonical(twin_schema(), std::move(path), false);
}

void canonicalize_paths(ast::expr& e, ast::collection from) {
  if (e.kind == ast::expr_kind::path) {
    auto path = resolve_path(from, e.path);
    if (from == ast::collection::jobs) path.insert(path.begin(), {"devices", "jobs"});
    e.path = std::move(path);
  }
  for (auto& child : e.children) canonicalize_paths(*child, from);
}

std::vector<std::string> document_path(const std::vector<std::string>& canonical, ast::collection from) {
  if (from != ast::collection::jobs) return canonical;
  return std::vector<std::string>(canonical.begin() + 2, canonical.end());
}

ast::expr_ptr with_document_paths(const ast::expr& e, ast::collection from) {
  auto copy = ast::clone(e);
  if (from != ast::collection::jobs) return copy;
  struct walker {
    static void run(ast::expr& x) {
      if (x.kind == ast::expr_kind::path) x.path.erase(x.path.begin(), x.path.begin() + 2);
      for (auto& child : x.children) run(*child);
    }
  };
  walker::run(*copy);
  return copy;
}

std::string joined(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& s : path) {
    if (!out.empty()) out += '.';
    out += s;
  }
  return out;
}

}  // namespace mockhub::core::query
