#!/bin/sh
# The Fashion-MNIST accuracy runs of bench/RESULTS.md ("Fashion-MNIST accuracy (fit)"): Kiln through
# kiln.fit, then the same model and recipe in PyTorch, one after another. Needs a built dist/
# (npx tsc -p .) and /usr/share/datasets/fashion-mnist. Holds the build lock so no build runs meanwhile.
set -e
cd "$(dirname "$0")/../.."
# the peer's OpenBLAS kernel matches Kiln's instruction set on this processor (bench/peer-blas.mjs)
CORETYPE=$(node bench/peer-blas.mjs --coretype)
export CORETYPE
exec flock /tmp/kiln-build.lock sh -c '
  set -e
  node examples/fashion-mnist-mlp.mjs --epochs 5
  env -u OPENBLAS_CORETYPE ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} /usr/bin/python3 bench/fashion-mnist/torch_fashion.py mlp 5
  node examples/fashion-mnist-cnn.mjs --full --epochs 5
  env -u OPENBLAS_CORETYPE ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} /usr/bin/python3 bench/fashion-mnist/torch_fashion.py cnn 5
'
