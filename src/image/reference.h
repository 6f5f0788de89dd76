// References are parsed by oci/ alone; image/ and the callers that name them through it
// (image::Reference) get the very same types and functions from these aliases.
#pragma once

#include "oci/reference.h"

namespace berth::image {

using oci::check_tag;
using oci::looks_like_full_id;
using oci::parse_reference;
using oci::parse_reference_with_default_tag;
using oci::Reference;

}  // namespace berth::image
