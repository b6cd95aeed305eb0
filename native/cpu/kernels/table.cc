// The kernel table of this instruction set, filled by name from ops.def: a kernel that is
// missing is a link error, and two kernels cannot trade places.
#include "kernels_isa.h"

#define KILN_STRINGIZE_INNER(x) #x
#define KILN_STRINGIZE(x) KILN_STRINGIZE_INNER(x)

namespace kiln::cpu::KILN_ISA_NS {
namespace {

KernelTable makeTable() {
  KernelTable t{};
  t.isa = KILN_STRINGIZE(KILN_ISA_NS);
#define KILN_OP(name, fields) t.name = &::kiln::cpu::KILN_ISA_NS::name;
#define KILN_COMPOSITE(name, fields)
#include "../../include/ops.def"
#include "../../include/ops_undef.h"
  return t;
}

}  // namespace

const KernelTable& kernelTable() {
  static const KernelTable table = makeTable();
  return table;
}

}  // namespace kiln::cpu::KILN_ISA_NS
