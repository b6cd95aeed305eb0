// The kernels with a vector body from native/cpu/kernels/vec_math.h (16 lanes on AVX-512, 8 on
// AVX2, none on the portable table): exp, sigmoid and tanh with edge values placed in vector
// lanes and a dense sweep, and the fused LSTM and GRU cells with H = 37 (vector body and scalar
// tail), all against float64 references. Run by kernelSuite on every ISA path.
import { describe, expect, it } from 'vitest';

import { type Buffers, type Native, expectClose, randArray } from './kernel-helpers';

const U = { Exp: 1, Sigmoid: 8, Tanh: 9 } as const;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

const edges = [0, -0, 1e-30, -1e-30, 0.5, -0.5, 0.62, 0.63, -0.63, 1, -1, 10, -10, 20, -20, 87, 88.7, 89, 100, -87, -88,
  -100, -103.9, -104.5, -200, Infinity, -Infinity, NaN];
const sweep = Array.from({ length: 4096 }, (_, i) => -30 + (60 * i) / 4095);

export function vectorSuite(native: Native, buf: Buffers): void {
  const unary = (op: number, xs: number[]) => {
    const y = buf.poisoned(xs.length);
    native.unary(op, y, 0, buf.f32(xs), 0, xs.length, 0, 0);
    return buf.readF32(y, xs.length);
  };

  describe('vector exp / sigmoid / tanh', () => {
    const refs = { exp: Math.exp, sigmoid, tanh: Math.tanh };
    const check = (name: keyof typeof refs, values: number[]) => {
      // 48 leading elements push every value into the vector body
      const got = unary(U[name === 'exp' ? 'Exp' : name === 'sigmoid' ? 'Sigmoid' : 'Tanh'], [...Array(48).fill(0.25), ...values]);
      values.forEach((v, k) => {
        const g = got[48 + k];
        const want = Math.fround(refs[name](Math.fround(v)));
        if (Number.isNaN(want)) expect(g, `${name}(${v})`).toBeNaN();
        else if (!Number.isFinite(want) || want === 0) expect(g, `${name}(${v})`).toBe(want);
        else {
          const tol = 3e-7 * (name === 'exp' && v < -87 ? 1e4 : 1); // denormal results
          expect(Math.abs(g - want) / Math.abs(want), `${name}(${v}) = ${g}, want ${want}`).toBeLessThan(tol);
        }
      });
    };
    for (const name of ['exp', 'sigmoid', 'tanh'] as const) {
      it(`${name}: edge values in vector lanes and a dense sweep over [-30, 30]`, () => {
        check(name, edges);
        check(name, sweep);
      });
    }
    it('tanh keeps the sign of zero', () => {
      expect(Object.is(unary(U.Tanh, Array(16).fill(-0))[3], -0)).toBe(true);
    });
  });

  describe('fused recurrent cells', () => {
    const Bn = 3, H = 37;
    it('lstmCellForward and lstmCellBackward match float64', () => {
      const pre = randArray(Bn * 4 * H, 401, -3, 3), cPrev = randArray(Bn * H, 402), dh = randArray(Bn * H, 403, -1, 1);
      const dc = randArray(Bn * H, 404, -1, 1);
      const gates = buf.f32(pre), h = buf.poisoned(Bn * H), c = buf.poisoned(Bn * H), cp = buf.f32(cPrev);
      native.lstmCellForward(gates, 0, h, 0, c, 0, cp, 0, Bn, H);
      const act = buf.readF32(gates, Bn * 4 * H), cs = buf.readF32(c, Bn * H);
      const actRef: number[] = [], hRef: number[] = [], cRef: number[] = [];
      const dgRef: number[] = [], dcpRef: number[] = [];
      for (let b = 0; b < Bn; b++) {
        for (let k = 0; k < 4; k++) {
          for (let j = 0; j < H; j++) actRef.push((k === 2 ? Math.tanh : sigmoid)(pre[(b * 4 + k) * H + j]));
        }
        const gd: number[][] = [[], [], [], []];
        for (let j = 0; j < H; j++) {
          const [i, f, g, o] = [0, 1, 2, 3].map((k) => actRef[(b * 4 + k) * H + j]);
          const cn = f * cPrev[b * H + j] + i * g;
          cRef.push(cn);
          hRef.push(o * Math.tanh(cn));
          // backward from the float32 activations and c the forward wrote
          const [ai, af, ag, ao] = [0, 1, 2, 3].map((k) => act[(b * 4 + k) * H + j]);
          const tc = Math.tanh(cs[b * H + j]);
          const dC = dc[b * H + j] + dh[b * H + j] * ao * (1 - tc * tc);
          gd[0].push(dC * ag * ai * (1 - ai));
          gd[1].push(dC * cPrev[b * H + j] * af * (1 - af));
          gd[2].push(dC * ai * (1 - ag * ag));
          gd[3].push(dh[b * H + j] * tc * ao * (1 - ao));
          dcpRef.push(dC * af);
        }
        dgRef.push(...gd.flat());
      }
      expectClose(act, actRef, 2e-6, 1e-7, 'lstm gates');
      expectClose(cs, cRef, 2e-6, 1e-6, 'lstm c');
      expectClose(buf.readF32(h, Bn * H), hRef, 2e-6, 1e-6, 'lstm h');
      const dgates = buf.poisoned(Bn * 4 * H), dcPrev = buf.poisoned(Bn * H);
      // dh and dc given, their recurrent halves null (counted as 0)
      native.lstmCellBackward(dgates, 0, dcPrev, 0, buf.f32(dh), 0, null, 0, buf.f32(dc), 0, null, 0, gates, 0, c, 0, cp, 0, Bn, H);
      expectClose(buf.readF32(dgates, Bn * 4 * H), dgRef, 1e-5, 1e-6, 'lstm dgates');
      expectClose(buf.readF32(dcPrev, Bn * H), dcpRef, 1e-5, 1e-6, 'lstm dcPrev');
    });

    it('gruCellForward and gruCellBackward match float64', () => {
      const gx = randArray(Bn * 3 * H, 411, -3, 3), hhs = randArray(Bn * 3 * H, 412, -2, 2);
      const hPrev = randArray(Bn * H, 413, -1, 1), dh = randArray(Bn * H, 414, -1, 1);
      const gates = buf.f32(gx), h = buf.poisoned(Bn * H), hh = buf.f32(hhs), hp = buf.f32(hPrev);
      native.gruCellForward(gates, 0, h, 0, hh, 0, hp, 0, Bn, H);
      const act = buf.readF32(gates, Bn * 3 * H);
      const actRef = new Float64Array(Bn * 3 * H), hRef: number[] = [];
      const dprojRef = new Float64Array(Bn * 3 * H), dhhRef = new Float64Array(Bn * 3 * H), dhpRef: number[] = [];
      for (let b = 0; b < Bn; b++) {
        for (let j = 0; j < H; j++) {
          const at = (k: number) => (b * 3 + k) * H + j;
          const r = sigmoid(gx[at(0)] + hhs[at(0)]), z = sigmoid(gx[at(1)] + hhs[at(1)]);
          const n = Math.tanh(gx[at(2)] + r * hhs[at(2)]);
          actRef[at(0)] = r;
          actRef[at(1)] = z;
          actRef[at(2)] = n;
          hRef.push((1 - z) * n + z * hPrev[b * H + j]);
          const [ar, az, an] = [act[at(0)], act[at(1)], act[at(2)]];
          const dH = dh[b * H + j];
          const dn = dH * (1 - az) * (1 - an * an), dz = dH * (hPrev[b * H + j] - an) * az * (1 - az);
          const dr = dn * hhs[at(2)] * ar * (1 - ar);
          [dprojRef[at(0)], dprojRef[at(1)], dprojRef[at(2)]] = [dr, dz, dn];
          [dhhRef[at(0)], dhhRef[at(1)], dhhRef[at(2)]] = [dr, dz, dn * ar];
          dhpRef.push(dH * az);
        }
      }
      expectClose(act, actRef, 2e-6, 1e-7, 'gru gates');
      expectClose(buf.readF32(h, Bn * H), hRef, 2e-6, 1e-6, 'gru h');
      const dproj = buf.poisoned(Bn * 3 * H), dhh = buf.poisoned(Bn * 3 * H), dhPrev = buf.poisoned(Bn * H);
      native.gruCellBackward(dproj, 0, dhh, 0, dhPrev, 0, null, 0, buf.f32(dh), 0, gates, 0, hh, 0, hp, 0, Bn, H);
      expectClose(buf.readF32(dproj, Bn * 3 * H), dprojRef, 1e-5, 1e-6, 'gru dproj');
      expectClose(buf.readF32(dhh, Bn * 3 * H), dhhRef, 1e-5, 1e-6, 'gru dhh');
      expectClose(buf.readF32(dhPrev, Bn * H), dhpRef, 1e-5, 1e-6, 'gru dhPrev');
    });
  });
}
