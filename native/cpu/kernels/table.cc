// The kernel table of this instruction set: the name comes from the KILN_ISA_NS macro.
#include "kernels_isa.h"

#define KILN_STRINGIZE_INNER(x) #x
#define KILN_STRINGIZE(x) KILN_STRINGIZE_INNER(x)

namespace kiln::cpu::KILN_ISA_NS {

const KernelTable& kernelTable() {
  static const KernelTable table = {
      KILN_STRINGIZE(KILN_ISA_NS),
      fill, cast, stridedCopy,
      unary, unaryBackward, binary, where,
      reduce,
      softmax, softmaxBackward, crossEntropyForward, crossEntropyBackward,
      lstmCellForward, lstmCellBackward,
      gruCellForward, gruCellBackward,
      gemm,
      indexSelect, indexAdd, gather, scatterAdd,
      im2col, col2im,
      maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward,
      randomUniform, randomNormal,
      adamStep, sgdStep,
  };
  return table;
}

}  // namespace kiln::cpu::KILN_ISA_NS
