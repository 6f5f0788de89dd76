#include "network/firewall.h"
