// A shim lives as long as its container and mostly sleeps: what it needed to create the
// container (the runtime's code, the heap used for the spec) is handed back to the kernel.
#pragma once

namespace berth::shim {

// Drops the pages of the shim's own executable from its resident set (they come back from
// the page cache if ever used again) and returns free heap to the kernel.
void release_startup_memory();

}  // namespace berth::shim
