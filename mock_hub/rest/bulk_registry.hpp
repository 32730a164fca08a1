// BulkRegistry_UpdateRegistry (POST /devices): up to 100 ExportImportDevice entries, each applied
// through the same core call as its single-device operation. The good entries are applied; a
// failed one is reported in the BulkRegistryOperationResult (docs/fidelity.md, "Bulk registry").
#pragma once

#include "request_context.hpp"

namespace mockhub::rest::handlers {

/// The most devices one call may name (the specification's "maximum of 100 devices").
inline constexpr std::size_t bulk_registry_max_devices = 100;

rest_response bulk_registry_update_registry(request_context& c);

}  // namespace mockhub::rest::handlers
