#include "network/netlink.h"
