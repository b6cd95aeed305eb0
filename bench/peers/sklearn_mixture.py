"""Peer of bench/mixture.mjs: scikit-learn 1.2 GaussianMixture and KMeans on the same data and
init that the Kiln side uses (raw float64 files written by bench/mixture.mjs). Prints one JSON
line: seconds of each fit and the results to cross-check (lower bound, inertia, iterations).
Each timed fit follows an untimed one-iteration fit of the same problem (as the Kiln side does).

  /usr/bin/python3 bench/peers/sklearn_mixture.py DIR gmm|kmeans
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

warnings.simplefilter("ignore", ConvergenceWarning)
d, what = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(d, "meta.json")))


def load(name, shape):
    return np.fromfile(os.path.join(d, name), dtype=np.float64).reshape(shape)


out = {"sklearn": sklearn.__version__}
if what == "gmm":
    g = meta["gmm"]
    n, dim, k = g["n"], g["d"], g["k"]
    X = load("gmm-X.f64", (n, dim))
    means = load("gmm-means.f64", (k, dim))
    prec = np.stack([np.eye(dim)] * k)

    def make(iters):
        return GaussianMixture(n_components=k, covariance_type="full", tol=0.0, max_iter=iters,
                               weights_init=np.full(k, 1.0 / k), means_init=means, precisions_init=prec)
    make(1).fit(X)
    gm = make(g["iters"])
    t = time.perf_counter()
    gm.fit(X)
    out.update(seconds=time.perf_counter() - t, nIter=int(gm.n_iter_), lowerBound=float(gm.lower_bound_))
else:
    m = meta["kmeans"]
    n, dim, k = m["n"], m["d"], m["k"]
    X = load("km-X.f64", (n, dim))
    init = load("km-init.f64", (k, dim))

    def make(iters):
        return KMeans(n_clusters=k, init=init, n_init=1, max_iter=iters, tol=0.0, algorithm="lloyd")
    make(1).fit(X)
    km = make(m["iters"])
    t = time.perf_counter()
    km.fit(X)
    out.update(seconds=time.perf_counter() - t, nIter=int(km.n_iter_), inertia=float(km.inertia_))
print(json.dumps(out))
