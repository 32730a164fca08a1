// Turns a property path as written in a query into the path of the JSON document it reads.
// Internal to mock_hub/core/query.
//
// - Names the hub defines (the twin's identity fields, `properties.desired`/`reported`,
//   `capabilities.iotEdge`, the device-job record's fields) match case-insensitively and are
//   rewritten to their wire spelling: `DeviceId` -> `deviceId` [Doc query-twins projection
//   example; SDK C# e2e `DeviceId IN [...]`]. Names users define (tags, desired, reported,
//   method payloads) are case-sensitive, as twin keys are.
// - FROM devices / devices.modules: an optional leading `devices.` is dropped
//   (`devices.deviceId`, as the az CLI writes it).
// - FROM devices.jobs: every path must start with `devices.jobs.`; the rest is the record's
//   field, and `createdTimeUtc` (the docs' spelling) means `createdDateTimeUtc` (the record's).
#pragma once

#include <string>
#include <vector>

#include "ast.hpp"

namespace mockhub::core::query {

/// The document path for `written` in collection `from`. Throws the hub's "query is invalid"
/// error for a devices.jobs path outside `devices.jobs.`.
std::vector<std::string> resolve_path(ast::collection from, const std::vector<std::string>& written);

/// Rewrites every path in `e` to its canonical spelling as a query writes it: the resolved
/// document path, behind `devices.jobs.` for devices.jobs. Throws as resolve_path does.
void canonicalize_paths(ast::expr& e, ast::collection from);

/// A copy of a canonicalized `e` whose paths are document paths (`devices.jobs.` removed).
ast::expr_ptr with_document_paths(const ast::expr& e, ast::collection from);

/// The document path of a canonical path.
std::vector<std::string> document_path(const std::vector<std::string>& canonical, ast::collection from);

/// A path written back with dots, e.g. `properties.reported.firmware`.
std::string joined(const std::vector<std::string>& path);

}  // namespace mockhub::core::query
