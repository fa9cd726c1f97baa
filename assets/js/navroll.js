/* maml-viz navigation in the browser (window.MamlNav in a page, module.exports under node): a
Gaussian MLP policy's tries toward a goal before and after each policy-gradient step, the same
maths as maml_viz/engine/rl.py (rollout, advantages, pg_step, goal_trajectories) and the same
noise (maml_viz/engine/noise.py, drawn bit for bit here), so that a click on the Navigation
plane or "Random goal" answers without a server round trip. The engine stays the reference:
tests/test_navigation_view.py rolls the same goals out here (adapt.js first: its decoder) and with rl.goal_trajectories in
float64 and requires the same positions and returns.

Numbers: doubles throughout; the stored weights, step sizes, the noise and the goal are float32
values (as the engine's are). Mirrored:
  rollout    n tries from the origin for H moves; act = mean + σ·noise (σ = exp(max(log_std,
             log MIN_STD))); pos += clip(action_scale·act, ±max_speed); reward −|pos − goal|;
             a try ends (mask 0 from the next move) once within goal_radius on both axes
  baseline   ridge regression of the discounted returns on (obs, obs², t/100, (t/100)², (t/100)³,
             1), reg·(1 + mean diag) on the diagonal; advantages normalised over the valid moves
  step       θ_k ← θ_k + scale·α_k·∇ mean_valid(log π(a|s)·A) for the adapted keys (scale 1, then
             ½); α a number or per weight (Meta-SGD); ANIL: the head only; the oracle: nothing
*/
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory(require("./adapt.js"));
  else root.MamlNav = factory(root.MamlAdapt);
}(typeof self !== "undefined" ? self : this, function (A) {
  "use strict";
  const f32 = Math.fround;
  const NORMAL_SALT = 0x9E3779B9, GOAL_SALT = 0x85EBCA6B;
  const LOG2PI = Math.log(2 * Math.PI);

  // ------------------------------------------------------------------------- noise (noise.py)
  function mix(x) {
    x = x >>> 0;
    x ^= x >>> 16; x = Math.imul(x, 0x7FEB352D) >>> 0;
    x ^= x >>> 15; x = Math.imul(x, 0x846CA68B) >>> 0;
    x ^= x >>> 16;
    return x >>> 0;
  }
  function uniforms(seed, start, count, salt) {
    const key = mix(((seed >>> 0) ^ salt) >>> 0), out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = ((mix((mix(start + i) ^ key) >>> 0) >>> 8) + 0.5) / 16777216;
    return out;
  }
  /** Standard normals start..start+count−1 of seed's stream (float32 values). */
  function normals(seed, start, count) {
    const u = uniforms(seed, 2 * start, 2 * count, NORMAL_SALT), out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = f32(Math.sqrt(-2.0 * Math.log(u[2 * i])) * Math.cos(2.0 * Math.PI * u[2 * i + 1]));
    }
    return out;
  }
  /** The goal "Random goal" places for this seed (views/navigation.random_goal). */
  function randomGoal(seed, low, high) {
    const lo = Math.round(low * 1000), span = Math.round((high - low) * 1000);
    const u = uniforms(seed, 0, 2, GOAL_SALT);
    return [(lo + Math.floor(u[0] * span)) / 1000, (lo + Math.floor(u[1] * span)) / 1000];
  }

  // ------------------------------------------------------------------------- the policy
  /** base64 float32 weights -> doubles (adapt.js decodes). */
  const decodeF32 = (b64) => Float64Array.from(A.decodeF32(b64));

  /** payload: maml_viz/views/browser.py navigation_payload. */
  function load(P) {
    const sizes = P.model.sizes, L = sizes.length - 1, keys = P.model.keys;
    const params = {}, lrs = {};
    for (const k of keys) params[k] = decodeF32(P.params[k]);
    for (const k of keys) lrs[k] = P.lrs ? decodeF32(P.lrs[k]) : null;
    return { P: P, sizes: sizes, L: L, keys: keys, params: params, lrs: lrs,
             adapt: P.adapt_keys, lr: P.inner_lr, fam: P.family, goalInput: !!P.run.goal_input };
  }
  const copy = (p) => { const o = {}; for (const k in p) o[k] = p[k]; return o; };

  /** Mean actions for M observations x [M, in]; keeps every layer's input for backward when
  `cache` is given. Each output is a dot product with a row of the transposed weight (th.T),
  two observations at a time (one load of a weight for both). */
  function forward(E, th, x, M, cache) {
    let h = x, din = E.sizes[0];
    const T = transposed(E, th);
    for (let l = 0; l < E.L; l++) {
      const dout = E.sizes[l + 1], Wt = T[l], b = th["l" + l + ".b"];
      const out = new Float64Array(M * dout), last = l === E.L - 1;
      let m = 0;
      for (; m + 1 < M; m += 2) {
        const h0 = m * din, h1 = h0 + din, o0 = m * dout, o1 = o0 + dout;
        for (let j = 0; j < dout; j++) {
          let s0 = b[j], s1 = b[j];
          const w = j * din;
          for (let i = 0; i < din; i++) { const q = Wt[w + i]; s0 += h[h0 + i] * q; s1 += h[h1 + i] * q; }
          out[o0 + j] = last || s0 > 0 ? s0 : 0;
          out[o1 + j] = last || s1 > 0 ? s1 : 0;
        }
      }
      for (; m < M; m++) {
        const h0 = m * din, o0 = m * dout;
        for (let j = 0; j < dout; j++) {
          let s0 = b[j];
          const w = j * din;
          for (let i = 0; i < din; i++) s0 += h[h0 + i] * Wt[w + i];
          out[o0 + j] = last || s0 > 0 ? s0 : 0;
        }
      }
      if (cache) cache.push(h);
      h = out; din = dout;
    }
    return h;
  }

  /** The weights transposed ([out, in]), kept with the parameters they came from. */
  function transposed(E, th) {
    if (th.__T) return th.__T;
    const T = [];
    for (let l = 0; l < E.L; l++) {
      const din = E.sizes[l], dout = E.sizes[l + 1], W = th["l" + l + ".w"];
      const Wt = new Float64Array(din * dout);
      for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) Wt[j * din + i] = W[i * dout + j];
      T.push(Wt);
    }
    Object.defineProperty(th, "__T", { value: T, enumerable: false });
    return T;
  }

  function logStd(E, th) {
    const min = Math.log(E.fam.min_std), ls = th.log_std;
    return [Math.max(ls[0], min), Math.max(ls[1], min)];
  }

  /** n tries from the origin toward goal g with the policy th, noise z (H·n·2 numbers). */
  function rollout(E, th, g, n, z) {
    const F = E.fam, H = F.horizon, din = E.sizes[0];
    const ls = logStd(E, th), sd = [Math.exp(ls[0]), Math.exp(ls[1])];
    const pos = new Float64Array(n * 2), alive = new Float64Array(n).fill(1);
    const obs = new Float64Array(H * n * din), act = new Float64Array(H * n * 2);
    const rew = new Float64Array(H * n), mask = new Float64Array(H * n);
    const path = new Float64Array((H + 1) * n * 2);          // [H+1, n, 2]
    const o = new Float64Array(n * din);
    const acts = E.sizes.slice(0, -1).map((d) => new Float64Array(H * n * d));   // layer inputs
    const means = new Float64Array(H * n * 2);
    for (let t = 0; t < H; t++) {
      for (let i = 0; i < n; i++) {
        o[i * din] = pos[2 * i]; o[i * din + 1] = pos[2 * i + 1];
        if (din === 4) { o[i * din + 2] = g[0]; o[i * din + 3] = g[1]; }
      }
      const cache = [], mean = forward(E, th, o, n, cache);
      for (let l = 0; l < E.L; l++) acts[l].set(cache[l], t * n * E.sizes[l]);
      means.set(mean, t * n * 2);
      for (let i = 0; i < n; i++) {
        const r = t * n + i;
        for (let d = 0; d < din; d++) obs[r * din + d] = o[i * din + d];
        let dist2 = 0, done = true;
        const nw = [0, 0];
        for (let d = 0; d < 2; d++) {
          const a = mean[2 * i + d] + sd[d] * z[(t * n + i) * 2 + d];
          act[r * 2 + d] = a;
          const v = Math.min(Math.max(F.action_scale * a, -F.max_speed), F.max_speed);
          nw[d] = pos[2 * i + d] + v;
          const e = nw[d] - g[d];
          dist2 += e * e;
          if (!(Math.abs(e) < F.goal_radius)) done = false;
        }
        rew[r] = -Math.sqrt(dist2) * alive[i];
        mask[r] = alive[i];
        if (alive[i]) { pos[2 * i] = nw[0]; pos[2 * i + 1] = nw[1]; }
        if (done) alive[i] = 0;
      }
      path.set(pos, (t + 1) * n * 2);
    }
    return { obs: obs, act: act, rew: rew, mask: mask, path: path, n: n, H: H, acts: acts,
             mean: means };
  }

  function meanReturn(R) {
    let s = 0;
    for (let i = 0; i < R.n; i++) for (let t = 0; t < R.H; t++) s += R.rew[t * R.n + i];
    return s / R.n;
  }

  /** Solve A w = y (small, symmetric positive definite): Gaussian elimination, partial pivots. */
  function solve(A, y, k) {
    const M = A.map((row, i) => row.concat([y[i]]));
    for (let c = 0; c < k; c++) {
      let p = c;
      for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
      [M[c], M[p]] = [M[p], M[c]];
      for (let r = c + 1; r < k; r++) {
        const f = M[r][c] / M[c][c];
        for (let j = c; j <= k; j++) M[r][j] -= f * M[c][j];
      }
    }
    const w = new Array(k).fill(0);
    for (let r = k - 1; r >= 0; r--) {
      let s = M[r][k];
      for (let j = r + 1; j < k; j++) s -= M[r][j] * w[j];
      w[r] = s / M[r][r];
    }
    return w;
  }

  /** Normalised advantages [H·n] (rl.advantages: the linear feature baseline). */
  function advantages(E, R, reg) {
    const { n, H, rew, mask, obs } = R, din = E.sizes[0], gamma = E.fam.discount, K = 8;
    const Ret = new Float64Array(H * n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let t = H - 1; t >= 0; t--) { acc = rew[t * n + i] + gamma * acc; Ret[t * n + i] = acc; }
    }
    const A = Array.from({ length: K }, () => new Array(K).fill(0)), y = new Array(K).fill(0);
    const feats = new Float64Array(H * n * K);
    for (let t = 0; t < H; t++) {
      const al = t / 100.0;
      for (let i = 0; i < n; i++) {
        const r = t * n + i, m = mask[r], f = feats.subarray(r * K, r * K + K);
        const ox = Math.min(Math.max(obs[r * din], -10), 10), oy = Math.min(Math.max(obs[r * din + 1], -10), 10);
        f[0] = ox * m; f[1] = oy * m; f[2] = ox * ox * m; f[3] = oy * oy * m;
        f[4] = al * m; f[5] = al * al * m; f[6] = al * al * al * m; f[7] = m;
        for (let a = 0; a < K; a++) {
          y[a] += f[a] * Ret[r] * m;
          for (let b = 0; b < K; b++) A[a][b] += f[a] * f[b];
        }
      }
    }
    let dm = 0;
    for (let a = 0; a < K; a++) dm += A[a][a];
    dm /= K;
    for (let a = 0; a < K; a++) A[a][a] += reg * (1 + dm);
    const w = solve(A, y, K);
    const adv = new Float64Array(H * n);
    let cnt = 0, sum = 0;
    for (let r = 0; r < H * n; r++) {
      let b = 0;
      for (let a = 0; a < K; a++) b += feats[r * K + a] * w[a];
      adv[r] = (Ret[r] - b) * mask[r];
      cnt += mask[r]; sum += adv[r];
    }
    cnt = Math.max(cnt, 1);
    const mu = sum / cnt;
    let ss = 0;
    for (let r = 0; r < H * n; r++) { const d = (adv[r] - mu) * mask[r]; ss += d * d; }
    const sd = Math.sqrt(ss / cnt);
    for (let r = 0; r < H * n; r++) adv[r] = ((adv[r] - mu) / (sd + 1e-8)) * mask[r];
    return { adv: adv, count: cnt };
  }

  /** The gradient of mean_valid(log π(a|s)·A) for the adapted keys (rl.surrogate, dice=False). */
  function gradient(E, th, R, adv, count) {
    const M = R.H * R.n, mean = R.mean, cache = R.acts;      // the rollout's own forward pass
    const ls = logStd(E, th), raw = th.log_std, min = Math.log(E.fam.min_std);
    const want = new Set(E.adapt), g = {};
    let dh = new Float64Array(M * 2);
    const gls = [0, 0];
    for (let m = 0; m < M; m++) {
      const c = adv[m] / count;
      if (c === 0) continue;
      for (let d = 0; d < 2; d++) {
        const zz = (R.act[m * 2 + d] - mean[m * 2 + d]) * Math.exp(-ls[d]);
        dh[m * 2 + d] = c * zz * Math.exp(-ls[d]);
        gls[d] += c * (zz * zz - 1);
      }
    }
    if (want.has("log_std")) g.log_std = Float64Array.from([raw[0] >= min ? gls[0] : 0,
                                                             raw[1] >= min ? gls[1] : 0]);
    const lowest = Math.min(...E.adapt.filter((k) => k !== "log_std").map((k) => +k.slice(1, k.indexOf("."))));
    for (let l = E.L - 1; l >= 0 && l >= lowest; l--) {
      const din = E.sizes[l], dout = E.sizes[l + 1], h = cache[l], W = th["l" + l + ".w"];
      const gW = new Float64Array(din * dout), gb = new Float64Array(dout);
      const needDown = l > lowest;            // the gradient below, through the relu there
      const down = needDown ? new Float64Array(M * din) : null;
      for (let m = 0; m < M; m++) {
        const dr = m * dout, hr = m * din;
        for (let j = 0; j < dout; j++) gb[j] += dh[dr + j];
        for (let i = 0; i < din; i++) {
          const v = h[hr + i];
          if (v === 0) continue;        // relu'd away: no weight gradient, no gradient below
          const wi = i * dout;
          let s = 0;
          for (let j = 0; j < dout; j++) { const q = dh[dr + j]; gW[wi + j] += v * q; s += W[wi + j] * q; }
          if (needDown) down[hr + i] = s;
        }
      }
      g["l" + l + ".w"] = gW; g["l" + l + ".b"] = gb;
      dh = down;
    }
    return g;
  }

  /** The tries at each step toward goal (rl.goal_trajectories): paths [S+1] of [H+1, n, 2]
  Float64Arrays, and the mean return of each step's tries. onStep(s, path, ret), if given, is
  called as each step's tries are done (the page draws the step shown before the last). */
  function trajectories(E, goal, steps, seed, n, onStep) {
    n = n || 20;
    const g = [f32(goal[0]), f32(goal[1])], H = E.fam.horizon, per = H * n * 2;
    let th = copy(E.params);
    const paths = [], ret = [];
    for (let s = 0; s <= steps; s++) {
      const R = rollout(E, th, g, n, normals(seed, s * per, per));
      paths.push(R.path); ret.push(meanReturn(R));
      if (onStep) onStep(s, R.path, ret[s]);
      if (s === steps || !E.adapt.length) continue;
      const { adv, count } = advantages(E, R, E.P.reg);
      const grad = gradient(E, th, R, adv, count), scale = s === 0 ? 1.0 : 0.5, nxt = copy(th);
      for (const k of E.adapt) {
        const v = th[k], gk = grad[k], out = new Float64Array(v.length), a = E.lrs[k];
        for (let i = 0; i < v.length; i++) out[i] = v[i] + (a ? a[i] : E.lr) * scale * gk[i];
        nxt[k] = out;
      }
      th = nxt;
    }
    return { paths: paths, ret: ret, n: n, H: H };
  }

  return { load: load, trajectories: trajectories, normals: normals, randomGoal: randomGoal,
           mix: mix };
}));
