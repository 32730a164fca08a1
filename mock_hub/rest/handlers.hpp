// The handlers of the supported operations, one per operation, named after it. Each parses the
// request, calls the hub on the executor, and serialises; hub errors propagate as hub_error.
#pragma once

#include "request_context.hpp"

namespace mockhub::rest::handlers {

rest_response devices_get_identity(request_context& c);
rest_response devices_create_or_update_identity(request_context& c);
rest_response devices_delete_identity(request_context& c);
rest_response devices_get_devices(request_context& c);
rest_response statistics_get_device_statistics(request_context& c);
rest_response statistics_get_service_statistics(request_context& c);
rest_response devices_get_twin(request_context& c);
rest_response devices_update_twin(request_context& c);
rest_response devices_replace_twin(request_context& c);
rest_response devices_invoke_method(request_context& c);
rest_response query_get_twins(request_context& c);
rest_response jobs_create_scheduled_job(request_context& c);
rest_response jobs_get_scheduled_job(request_context& c);
rest_response jobs_cancel_scheduled_job(request_context& c);
rest_response jobs_query_scheduled_jobs(request_context& c);
rest_response cloud_to_device_messages_purge_cloud_to_device_message_queue(request_context& c);

}  // namespace mockhub::rest::handlers
