// POST /containers/create's body decoded once: Docker's Config, HostConfig and
// NetworkingConfig checked field by field (container_fields.h), and the typed ContainerSpec the
// engine applies, with Docker's 400 wording for bad values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace berth::api {

// The body of a create: canonical keys in the JSON kept for inspect, and the typed spec.
// Fields accepted without effect add their warning to `warnings`.
engine::CreateRequest decode_create_request(const std::string& name, const std::string& body,
                                            std::vector<std::string>& warnings);

// POST /containers/{id}/update's body (already checked by check_fields): the resources given,
// with create's validation; fields update cannot change are refused.
engine::ResourceUpdate decode_resource_update(const nlohmann::json& body);

// HostConfig (already checked by check_fields) -> the typed spec.
engine::ContainerSpec decode_container_spec(const nlohmann::json& host_config);

}  // namespace berth::api
