/**
 * Output warping for the GP: a power transform fitted by maximum likelihood (Box-Cox when every
 * value is positive, else Yeo-Johnson), applied to the values divided by their standard
 * deviation, then standardised. Monotone, so the best trial stays the best; it turns heavy-tailed
 * objectives (Rosenbrock's 1 to 1e6) into something a stationary GP can fit, and leaves
 * near-Gaussian ones nearly as they were (lambda close to 1).
 */
const LAMBDA_MIN = -3, LAMBDA_MAX = 3;

export function boxCox(y: number, lambda: number): number {
  return Math.abs(lambda) < 1e-8 ? Math.log(y) : (y ** lambda - 1) / lambda;
}

export function yeoJohnson(y: number, lambda: number): number {
  if (y >= 0) return Math.abs(lambda) < 1e-8 ? Math.log1p(y) : ((y + 1) ** lambda - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-8 ? -Math.log1p(-y) : -(((1 - y) ** (2 - lambda) - 1) / (2 - lambda));
}

function variance(v: Float64Array): number {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return s / v.length;
}

/** Gaussian log-likelihood of the transformed values (profile over mean and variance) plus the Jacobian. */
function logLik(y: Float64Array, lambda: number, boxcox: boolean): number {
  const t = new Float64Array(y.length);
  let jac = 0;
  for (let i = 0; i < y.length; i++) {
    t[i] = boxcox ? boxCox(y[i], lambda) : yeoJohnson(y[i], lambda);
    jac += boxcox ? Math.log(y[i]) : Math.sign(y[i]) * Math.log1p(Math.abs(y[i]));
  }
  const v = variance(t);
  if (!(v > 0) || !Number.isFinite(v)) return -Infinity;
  return -0.5 * y.length * Math.log(v) + (lambda - 1) * jac;
}

/** Golden-section search for the lambda of highest likelihood on [-3, 3]. */
export function fitLambda(y: Float64Array, boxcox: boolean): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = LAMBDA_MIN, b = LAMBDA_MAX;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = logLik(y, c, boxcox), fd = logLik(y, d, boxcox);
  for (let i = 0; i < 60 && b - a > 1e-6; i++) {
    if (fc > fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = logLik(y, c, boxcox); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = logLik(y, d, boxcox); }
  }
  return (a + b) / 2;
}

/** In place: y / sd, power-transformed, standardised. Values must be finite. */
export function powerWarp(y: Float64Array): void {
  const sd = Math.sqrt(variance(y));
  if (!(sd > 0)) return;
  for (let i = 0; i < y.length; i++) y[i] /= sd;
  const positive = y.every((v) => v > 0);
  const lambda = fitLambda(y, positive);
  for (let i = 0; i < y.length; i++) y[i] = positive ? boxCox(y[i], lambda) : yeoJohnson(y[i], lambda);
}
