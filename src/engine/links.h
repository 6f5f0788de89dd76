// Docker's legacy links (`--link NAME:ALIAS`). On the default bridge a link is recorded in
// HostConfig.Links as dockerd writes it ("/target:/me/alias"); the linking container gets the
// target's address in /etc/hosts (network/) and the environment variables built here. On a
// user-defined network a link is an alias of the endpoint, answered by the embedded DNS to
// the linking container only.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/container.h"
#include "engine/container_store.h"
#include "network/network.h"

namespace berth::engine {

struct Link {
  std::string target;  // the linked container's name, without '/'
  std::string alias;   // the last part of the alias ("db" of "/me/db")
};

// "name", "name:alias", "/name:/me/alias"; a malformed link is Docker's 400.
Link parse_link(const std::string& link);

// At create: HostConfig.Links of container `me` recorded as dockerd does. On the default
// bridge as "/target:/me/alias", each target checked (`resolve` gives a container's name or
// throws NotFound); on a user-defined network they are the endpoint's Links (in
// `networking`'s EndpointsConfig) and HostConfig.Links is null.
void record_container_links(nlohmann::json& host_config, nlohmann::json& networking,
                            const std::string& me,
                            const std::function<std::string(const std::string&)>& resolve);

// At start, for a container with links on the default bridge: a copy whose Config.Env has
// the variables its links give it after its own (the targets run: the network's setup
// checked that). The process gets them; the record and inspect do not, as with dockerd.
std::optional<Container> with_links_env(const Container& c, const ContainerStore& store,
                                        const network::NetworkManager& networks);

// The variables a link to `target_name` under `alias` puts in the linking container `me`'s
// environment: ALIAS_NAME, ALIAS_PORT and ALIAS_PORT_<port>_<PROTO>[_ADDR|_PORT|_PROTO] for
// each exposed port (with _START/_END over runs of consecutive ports), ALIAS_ENV_<var> for
// the target's Config.Env but HOME and PATH.
// At rename: links recorded as "/target:/me/alias" follow the new name of either end, as
// dockerd shows them. Returns whether `host_config` of the container named `me` changed.
bool rename_in_links(nlohmann::json& host_config, const std::string& me,
                     const std::string& old_name, const std::string& new_name);

// Docker's documented promise for legacy links: when a linked container starts again, with
// a new address, the /etc/hosts of each running container linking to it follows.
// `hosts_path` gives a container's hosts file.
void refresh_linkers_hosts(const Container& target, const ContainerStore& store,
                           const network::NetworkManager& networks,
                           const std::function<std::string(const std::string&)>& hosts_path);

// `hosts` with the address of every line whose first name is `alias` set to `ip`.
std::string with_link_address(const std::string& hosts, const std::string& alias,
                              const std::string& ip);

std::vector<std::string> link_env(const std::string& me, const std::string& alias,
                                  const std::string& ip, const nlohmann::json& exposed_ports,
                                  const nlohmann::json& target_env);

}  // namespace berth::engine
