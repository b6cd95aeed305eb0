// The argument struct of every op, generated from ops.def: kiln::args::<op>, its fields in the
// order ops.def lists them (so designated initializers `{.M = 4, ...}` follow that order).
#pragma once
#include <cstdint>

#include "op_types.h"

#define ENUM(T, x) T x;
#define SIZE(x) int64_t x;
#define I32(x) int32_t x;
#define U64(x) uint64_t x;
#define F32(x) float x;
#define F64(x) double x;
#define BOOL(x) bool x;
#define DIMS(x) Dims x;
#define CONV(x) ConvGeom x;
#define IN(T, x, extent) const T* x;
#define OUT(T, x, extent) T* x;
#define OPT_IN(T, x, extent) const T* x;
#define OPT_OUT(T, x, extent) T* x;
#define IN_ANY(x, extent) const void* x; DType x##Type;
#define OUT_ANY(x, extent) void* x; DType x##Type;
#define OPT_IN_ANY(x, extent) const void* x; DType x##Type;
#define INDEX(x, count, bound) const int32_t* x;
#define INDEX_OR(x, count, bound, except) const int32_t* x;
#define ALIAS(out, in, layoutOk)
#define CHECK(cond, message)
#define KILN_OP(name, fields) struct name { fields };
#define KILN_COMPOSITE(name, fields) struct name { fields };

namespace kiln::args {
#include "ops.def"
}  // namespace kiln::args

#include "ops_undef.h"
