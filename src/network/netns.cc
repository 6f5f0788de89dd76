#include "network/netns.h"
