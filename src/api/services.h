// What the Engine API routes call into: the daemon's stores and its event stream.
#pragma once

#include "api/router.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/manager.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "network/network.h"

namespace berth::api {

struct Services {
  image::ImageStore& images;
  image::ContentStore& content;
  engine::EventBus& events;
  engine::ContainerManager& containers;
  network::NetworkManager& networks;
  // Records of execs live as long as the daemon; exec routes and inspect share them.
  std::shared_ptr<engine::ExecManager> execs =
      std::make_shared<engine::ExecManager>(containers, events);
};

// Publishes an image event; `name` (a familiar reference) goes into its attributes.
void publish_image_event(Services& s, const std::string& action, const std::string& id,
                         const std::string& name = "");

void add_image_routes(Router& router, Services& s);
void add_image_transfer_routes(Router& router, Services& s);
void add_event_routes(Router& router, Services& s);
void add_container_routes(Router& router, Services& s);
void add_commit_routes(Router& router, Services& s);
void add_exec_routes(Router& router, Services& s);
void add_network_routes(Router& router, Services& s);

}  // namespace berth::api
