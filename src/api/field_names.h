// Go's JSON decoder matches a body's field names to a struct's case-insensitively; berthd
// reads them by their canonical spelling. These rename a body's keys to Docker's spelling at
// the door (create bodies of networks, volumes and endpoints), so that "name" is "Name".
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string_view>

namespace berth::api {

// Renames each key of `obj` (when an object) that matches one of `names` but for case.
void canonical_keys(nlohmann::json& obj, std::initializer_list<std::string_view> names);

// POST /networks/create's body, its IPAM and pools, with Docker's spelling.
void canonical_network_create(nlohmann::json& body);
// An EndpointSettings (network connect, a create's NetworkingConfig) with Docker's spelling.
void canonical_endpoint(nlohmann::json& endpoint);

}  // namespace berth::api
