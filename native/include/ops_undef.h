// Undefines the field and op macros after an expansion of ops.def (no include guard: used
// after every expansion).
#undef ENUM
#undef SIZE
#undef I32
#undef U64
#undef F32
#undef F64
#undef BOOL
#undef DIMS
#undef CONV
#undef IN
#undef OUT
#undef OPT_IN
#undef OPT_OUT
#undef IN_ANY
#undef OUT_ANY
#undef OPT_IN_ANY
#undef INDEX
#undef INDEX_OR
#undef ALIAS
#undef CHECK
#undef KILN_OP
#undef KILN_COMPOSITE
