#include "network/dns_server.h"
