// Registries: pull (POST /images/create?fromImage=), push (POST /images/{name}/push) and
// login (POST /auth). Credentials come as Docker's X-Registry-Auth header or /auth's body.
#pragma once

#include "api/router.h"
#include "engine/engine.h"

namespace berth::api {

// /images/create with fromImage: answers with Docker's JSON progress stream.
Response pull_image(engine::Engine& s, const Request& req);
// POST /images/{name}/push and POST /auth.
void add_registry_routes(Router& router, engine::Engine& s);

}  // namespace berth::api
