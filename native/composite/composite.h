// Algorithms written once against the Backend interface, so every backend runs them: each is a
// KILN_COMPOSITE of ops.def, `void name(Backend& be, const args::name& a)`. No N-API here and no
// backend-specific code: they call the backend's ops (gemm, the fused cells, ...) in a loop.
#pragma once
#include "../include/backend.h"

namespace kiln::composite {

#define KILN_OP(name, fields)
#define KILN_COMPOSITE(name, fields) void name(Backend& be, const args::name& a);
#include "../include/ops.def"
#include "../include/ops_undef.h"

}  // namespace kiln::composite
