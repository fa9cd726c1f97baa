/* maml-viz in-browser adaptation engine (window.MamlAdapt in a page, module.exports under node).

What it is: the Playground's inner loop for the small families (sinusoid, linear, wave, blobs),
the same maths as maml_viz/adapt.py + nets.py + tasks/base.py in float32, so that K, α, steps,
"New task", clicked or dragged points and "use only my points" answer without a server round
trip. The engine (Python) stays the reference: tests/test_browser_adapt.py adapts the same points
here and with explore.trajectory and requires the same curves and errors to 1e-4.

Numbers: every tensor lives in a Float32Array (stored values are rounded to float32 as torch's
are); sums are accumulated in doubles and rounded once (torch's BLAS accumulates in float32: the
two agree to a few float32 ulps). Maths mirrored:
  MLP      h = relu(h·W + b) per hidden layer, linear output; backward masks where the layer
           input <= 0 (nets.MLP.backward), lower layers skipped when no key below adapts (ANIL)
  sine     y = amp·sin(x − phase) (nets.SineModel), hand gradients
  loss     MSE: mean (p−y)², grad (p−y)·2/(M·out); cross-entropy: mean of logsumexp − logit_y,
           grad (softmax − onehot)/M; score: accuracy (argmax, first max wins)
  step     θ_k ← θ_k − α·g_k for the adapted keys only; α a number, or per weight (Meta-SGD)
  blow-up  first step with a prediction on the grid or the support loss not finite or beyond
           ±1e6 (explore.blowup_step with explore.BLOWUP): the chart shows steps 0..b−1

How the Playground component uses it (design; a working prototype for the regression families:
pages/_shared/adapt_component.py + assets/js/playground.js, tested in
tests/test_browser_adapt_component.py):
  1. Python sends one payload per run (maml_viz/browser_payload.py: 100-120 KB of JSON for a line
     family, ~230 KB for the 2-D classes): θ (float32, base64), the architecture, the adapted
     keys, the step size(s), fixed axis ranges, the grid, and a batch of 64 pre-sampled tasks
     (seeds first_seed..first_seed+63: a support pool of 50 points (per class), the true curve
     on the grid or the query points), bit-identical to explore.support for those seeds and any
     K <= 50 (explore.sample_task draws K points as the first K of that pool). A URL's task=N
     is batch first_seed = N − N % 64, index N % 64. Mount it as a Streamlit v2 component
     (st.components.v2.component(..., isolate_styles=False): Plotly's global CSS must reach the
     chart); data = {payload, k, lr, steps, step, task}. On a rerun an unchanged element (same
     data) goes as a hash reference (Streamlit caches messages >= 10 KB, runtime/
     forward_msg_cache.py); nothing at all is sent while the user plays.
  2. The component's JS calls `MamlAdapt.load(payload)` once per run, keeps the settings and the
     user's points on its host element (they survive reruns), and on every input event does
       const sup = eng.support(taskIndex, k, myPoints, onlyMine);
       const res = eng.adapt(sup, {steps, lr});   // lr omitted: the run's own (Meta-SGD: per
                                                  // weight, used while α is the trained one)
     then Plotly.react with res.preds[s] / res.support / res.gridError (lines) or, in the plane,
     eng.classesOf(res.predsAt(s)) for the maps it shows and res.queryAccuracy / res.queryLoss;
     res.shown bounds the step slider, res.blowup gives the note. The step slider only redraws.
     Costs (benchmarks/js_adapt_speed.py, Chromium on the 2-core machine under load): the
     Playground's default (K=10, 10 steps, curve and errors after every step) 4-8 ms; 50 points
     × 50 steps 13-30 ms; the 2-D classes 7-11 ms plus ~8 ms per 60×60 map drawn.
  3. Plotly.js is Streamlit's own: window.Plotly exists only once the page has drawn a Plotly
     chart, so the component's page draws an empty hidden one and the JS waits for the global.
  4. Never call setStateValue/setTriggerValue on a control change (each is a message and a
     rerun); keep the URL in step with history.replaceState as pages/_shared/stepsync.js does,
     and hand the points to Python only when the user asks for something server-side ("New task"
     past the batch: ask for the next 64, or wrap).
*/
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.MamlAdapt = factory();
}(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  const f32 = Math.fround;
  const FORMAT = "maml-viz/adapt-1";

  // ------------------------------------------------------------------------- decoding
  /** base64 of little-endian float32 values -> Float32Array (endianness-safe). */
  function decodeF32(b64) {
    let bytes;
    if (typeof atob === "function") {
      const s = atob(b64);
      bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    } else {
      bytes = Uint8Array.from(Buffer.from(b64, "base64"));
    }
    if (bytes.length % 4) throw new Error("MamlAdapt: a float32 array's byte length is not a multiple of 4");
    const view = new DataView(bytes.buffer), out = new Float32Array(bytes.length >> 2);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  /** Float32Array -> base64 of little-endian float32 (for tests and messages). */
  function encodeF32(a) {
    const buf = new ArrayBuffer(4 * a.length), view = new DataView(buf);
    for (let i = 0; i < a.length; i++) view.setFloat32(4 * i, a[i], true);
    const bytes = new Uint8Array(buf);
    if (typeof btoa === "function") {
      let s = "";
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(s);
    }
    return Buffer.from(bytes).toString("base64");
  }

  // ------------------------------------------------------------------------- models
  /** C = A·Bᵀ (+ bias per column): C[i*m + j] = bias[j] + Σ_k A[i*K + k]·B[j*K + k], for A
   *  [n, K] and B [m, K] row-major, summed in doubles and stored in C (float32). The inner loop
   *  keeps a 2×4 block of sums in registers: ~2× the speed of one multiply-add per load/store. */
  function abt(A, n, B, m, K, bias, C) {
    const m4 = m - (m & 3);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const a0 = i * K, a1 = a0 + K, c0 = i * m, c1 = c0 + m;
      let j = 0;
      for (; j < m4; j += 4) {
        const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        if (bias) { s00 = bias[j]; s01 = bias[j + 1]; s02 = bias[j + 2]; s03 = bias[j + 3]; }
        let s10 = s00, s11 = s01, s12 = s02, s13 = s03;
        for (let k = 0; k < K; k++) {
          const x0 = A[a0 + k], x1 = A[a1 + k];
          const v0 = B[b0 + k], v1 = B[b1 + k], v2 = B[b2 + k], v3 = B[b3 + k];
          s00 += x0 * v0; s01 += x0 * v1; s02 += x0 * v2; s03 += x0 * v3;
          s10 += x1 * v0; s11 += x1 * v1; s12 += x1 * v2; s13 += x1 * v3;
        }
        C[c0 + j] = s00; C[c0 + j + 1] = s01; C[c0 + j + 2] = s02; C[c0 + j + 3] = s03;
        C[c1 + j] = s10; C[c1 + j + 1] = s11; C[c1 + j + 2] = s12; C[c1 + j + 3] = s13;
      }
      for (; j < m; j++) {
        const b0 = j * K;
        let s0 = bias ? bias[j] : 0, s1 = s0;
        for (let k = 0; k < K; k++) { const v = B[b0 + k]; s0 += A[a0 + k] * v; s1 += A[a1 + k] * v; }
        C[c0 + j] = s0; C[c1 + j] = s1;
      }
    }
    for (; i < n; i++) {
      const a0 = i * K, c0 = i * m;
      for (let j = 0; j < m; j++) {
        const b0 = j * K;
        let s = bias ? bias[j] : 0;
        for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
        C[c0 + j] = s;
      }
    }
    return C;
  }

  function transpose(X, rows, cols) {
    const T = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) T[c * rows + r] = X[r * cols + c];
    return T;
  }

  const transposed = new WeakMap();      // W -> Wᵀ (a θ's arrays are never modified)
  function wT(W, a, b) {
    let t = transposed.get(W);
    if (!t) { t = transpose(W, a, b); transposed.set(W, t); }
    return t;
  }

  /** nets.MLP: params {"l<i>.w": [in*out] row-major, "l<i>.b": [out]}. */
  function MLP(sizes) {
    this.sizes = sizes.slice();
    this.nLayers = sizes.length - 1;
    this.inDim = sizes[0];
    this.outDim = sizes[sizes.length - 1];
  }
  MLP.prototype.shapes = function () {
    const s = {};
    for (let i = 0; i < this.nLayers; i++) {
      s["l" + i + ".w"] = this.sizes[i] * this.sizes[i + 1];
      s["l" + i + ".b"] = this.sizes[i + 1];
    }
    return s;
  };
  /** Output [n*out]; acts (an array, optional) receives each layer's input. */
  MLP.prototype.forward = function (params, x, n, acts) {
    const sizes = this.sizes, L = this.nLayers;
    let h = x;
    for (let i = 0; i < L; i++) {
      if (acts) acts[i] = h;
      const a = sizes[i], b = sizes[i + 1];
      const out = abt(h, n, wT(params["l" + i + ".w"], a, b), b, a, params["l" + i + ".b"],
                      new Float32Array(n * b));
      if (i < L - 1) for (let k = 0; k < out.length; k++) { const v = out[k]; if (v <= 0) out[k] = 0; }  // relu; NaN stays
      h = out;
    }
    return h;
  };
  /** Gradients of sum L given dout = dL/d(output) [n*out], for the keys in `keys` (an object
   *  used as a set); layers below the lowest adapted one are not visited (ANIL). */
  MLP.prototype.backward = function (params, acts, dout, n, keys) {
    const sizes = this.sizes, grads = {};
    let lowest = this.nLayers - 1;
    for (const k in keys) lowest = Math.min(lowest, parseInt(k.slice(1), 10));
    let d = dout;
    for (let i = this.nLayers - 1; i >= lowest; i--) {
      const a = acts[i], ain = sizes[i], bout = sizes[i + 1];
      const kw = "l" + i + ".w", kb = "l" + i + ".b";
      const dT = transpose(d, n, bout);
      if (keys[kw])                                          // aᵀ·d  [in, out]
        grads[kw] = abt(transpose(a, n, ain), ain, dT, bout, n, null, new Float32Array(ain * bout));
      if (keys[kb]) {
        const gb = new Float32Array(bout);
        for (let c = 0; c < bout; c++) {
          let t = 0;
          for (let p = 0, o = c * n; p < n; p++) t += dT[o + p];
          gb[c] = t;
        }
        grads[kb] = gb;
      }
      if (i > lowest) {                                      // d·Wᵀ, masked where a <= 0
        const nd = abt(d, n, params[kw], ain, bout, null, new Float32Array(n * ain));
        for (let k = 0; k < nd.length; k++) if (a[k] <= 0) nd[k] = 0;
        d = nd;
      }
    }
    return grads;
  };

  /** An upper bound on |output| over the input box [lo, hi]^in (interval arithmetic through the
   *  layers, in doubles): NaN or Infinity when the params are not finite. */
  MLP.prototype.bound = function (params, lo, hi) {
    const sizes = this.sizes, L = this.nLayers;
    let l = new Float64Array(sizes[0]).fill(lo), u = new Float64Array(sizes[0]).fill(hi), m = 0;
    for (let i = 0; i < L; i++) {
      const a = sizes[i], b = sizes[i + 1], W = params["l" + i + ".w"], B = params["l" + i + ".b"];
      const nl = new Float64Array(b), nu = new Float64Array(b);
      for (let j = 0; j < b; j++) {
        let c = B[j], r = 0;
        for (let k = 0; k < a; k++) {
          const w = W[k * b + j];
          c += w * (l[k] + u[k]) / 2; r += Math.abs(w) * (u[k] - l[k]) / 2;
        }
        nl[j] = c - r; nu[j] = c + r;
        if (i < L - 1) { nl[j] = Math.max(nl[j], 0); nu[j] = Math.max(nu[j], 0); }
        else m = Math.max(m, Math.abs(nl[j]), Math.abs(nu[j]), c !== c || r !== r ? NaN : 0);
      }
      l = nl; u = nu;
    }
    return m;
  };

  /** nets.SineModel: y = amp·sin(x − phase); params {amp: [1], phase: [1]}. */
  function SineModel() { this.inDim = 1; this.outDim = 1; }
  SineModel.prototype.shapes = function () { return { amp: 1, phase: 1 }; };
  SineModel.prototype.forward = function (params, x, n, acts) {
    const amp = params.amp[0], ph = params.phase[0];
    const s = new Float32Array(n), c = new Float32Array(n), out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = f32(x[i] - ph);
      s[i] = Math.sin(z); c[i] = Math.cos(z);
      out[i] = amp * s[i];
    }
    if (acts) { acts[0] = s; acts[1] = c; }
    return out;
  };
  SineModel.prototype.bound = function (params) {
    return params.phase[0] === params.phase[0] ? Math.abs(params.amp[0]) : NaN;
  };
  SineModel.prototype.backward = function (params, acts, dout, n, keys) {
    const s = acts[0], c = acts[1], amp = params.amp[0], grads = {};
    if (keys.amp) {
      let g = 0;
      for (let i = 0; i < n; i++) g += f32(dout[i] * s[i]);
      grads.amp = Float32Array.of(g);
    }
    if (keys.phase) {
      let g = 0;
      for (let i = 0; i < n; i++) g += f32(f32(dout[i] * amp) * c[i]);
      grads.phase = Float32Array.of(-g);
    }
    return grads;
  };

  // ------------------------------------------------------------------------- losses
  /** tasks/base.py RegressionFamily: mean squared error over points and outputs. */
  const MSE = {
    name: "mse",
    loss: function (pred, y, n, out) {
      let s = 0;
      const m = n * out;
      for (let i = 0; i < m; i++) { const d = f32(pred[i] - y[i]); s += d * d; }
      return f32(s / m);
    },
    grad: function (pred, y, n, out) {
      const m = n * out, c = f32(2 / m), g = new Float32Array(m);
      for (let i = 0; i < m; i++) g[i] = f32(pred[i] - y[i]) * c;
      return g;
    },
  };

  function argmax(row, o, C) {
    let best = 0, bv = row[o];
    for (let c = 1; c < C; c++) {
      const v = row[o + c];
      if (v > bv || (v !== v && bv === bv)) { bv = v; best = c; }   // torch: NaN is the max
    }
    return best;
  }

  /** tasks/base.py ClassificationFamily: cross-entropy on logits, integer labels. */
  const CE = {
    name: "cross_entropy",
    loss: function (pred, y, n, C) {
      let s = 0;
      for (let p = 0; p < n; p++) {
        const o = p * C;
        let m = -Infinity;
        for (let c = 0; c < C; c++) if (pred[o + c] > m) m = pred[o + c];
        let z = 0;
        for (let c = 0; c < C; c++) z += Math.exp(pred[o + c] - m);
        s += f32(m + Math.log(z) - pred[o + y[p]]);
      }
      return f32(s / n);
    },
    grad: function (pred, y, n, C) {
      const g = new Float32Array(n * C);
      for (let p = 0; p < n; p++) {
        const o = p * C;
        let m = -Infinity;
        for (let c = 0; c < C; c++) if (pred[o + c] > m) m = pred[o + c];
        let z = 0;
        for (let c = 0; c < C; c++) z += Math.exp(pred[o + c] - m);
        for (let c = 0; c < C; c++) {
          const sm = f32(Math.exp(pred[o + c] - m) / z);
          g[o + c] = f32(sm - (c === y[p] ? 1 : 0)) / n;
        }
      }
      return g;
    },
    accuracy: function (pred, y, n, C) {
      let hit = 0;
      for (let p = 0; p < n; p++) if (argmax(pred, p * C, C) === y[p]) hit++;
      return f32(hit / n);
    },
  };

  // ------------------------------------------------------------------------- the inner loop
  /** θ_k ← θ_k − α g_k for k in keys: α a number (torch.add(θ, g, alpha=−α)) or {key: Float32Array}
   *  (Meta-SGD: θ − α⊙g). Returns a new params object; θ is never modified. */
  function sgdStep(cur, grads, keys, lr) {
    const nxt = Object.assign({}, cur);
    for (const k of keys) {
      const p = cur[k], g = grads[k], q = new Float32Array(p.length);
      if (typeof lr === "number") {
        const a = f32(-lr);
        for (let i = 0; i < p.length; i++) q[i] = p[i] + a * g[i];
      } else {
        const L = lr[k];
        for (let i = 0; i < p.length; i++) q[i] = p[i] - f32(L[i] * g[i]);
      }
      nxt[k] = q;
    }
    return nxt;
  }

  /** adapt.adapt(trajectory=True): θ_0..θ_steps on the support set (x [n*in], y), with the
   *  support prediction of each θ_s (s < steps) kept for the losses. */
  function trajectory(model, loss, theta, keys, lr, x, y, n, steps) {
    const set = {};
    for (const k of keys) set[k] = true;
    const thetas = [theta], preds = [];
    let cur = theta;
    for (let s = 0; s < steps; s++) {
      const acts = [];
      const pred = model.forward(cur, x, n, acts);
      preds.push(pred);
      const dout = loss.grad(pred, y, n, model.outDim);
      cur = sgdStep(cur, model.backward(cur, acts, dout, n, set), keys, lr);
      thetas.push(cur);
    }
    preds.push(model.forward(cur, x, n, null));
    return { thetas: thetas, supportPreds: preds };
  }

  /** explore.blowup_step for one step's values: not finite or beyond ±limit. */
  function isBad(values, limit) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v <= limit && v >= -limit)) return true;     // NaN, ±Infinity, |v| > limit
    }
    return false;
  }

  // ------------------------------------------------------------------------- the run (payload)
  function Engine(payload) {
    if (!payload || payload.format !== FORMAT)
      throw new Error("MamlAdapt.load: not a maml-viz adaptation payload (expected format " + FORMAT + ")");
    const m = payload.model;
    if (m.type === "mlp") this.model = new MLP(m.sizes);
    else if (m.type === "sine") this.model = new SineModel();
    else throw new Error("MamlAdapt.load: unknown model type " + JSON.stringify(m.type));
    const shapes = this.model.shapes();
    const dec = function (obj, what) {
      const out = {};
      for (const k in shapes) {
        if (!(k in obj)) throw new Error("MamlAdapt.load: " + what + " lacks " + k);
        out[k] = decodeF32(obj[k]);
        if (out[k].length !== shapes[k])
          throw new Error("MamlAdapt.load: " + what + " " + k + " has " + out[k].length + " values, expected " + shapes[k]);
      }
      return out;
    };
    this.payload = payload;
    this.params = dec(payload.params, "params");
    this.lrs = payload.lrs ? dec(payload.lrs, "lrs") : null;
    this.keys = payload.adapt_keys.slice();
    this.innerLr = payload.inner_lr;
    const fam = this.family = payload.family;
    this.classes = fam.loss === "cross_entropy";
    this.loss = this.classes ? CE : MSE;
    this.blowupLimit = payload.blowup;
    // the grid: 1-D points, or the 2-D meshgrid(axis, axis, indexing="xy") flattened (x fastest)
    const axis = this.gridAxis = decodeF32(payload.grid.axis), g = axis.length;
    if (fam.in_dim === 1) { this.grid = axis; this.gridN = g; }
    else {
      this.grid = new Float32Array(2 * g * g); this.gridN = g * g;
      for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) {
        this.grid[2 * (i * g + j)] = axis[j]; this.grid[2 * (i * g + j) + 1] = axis[i];
      }
    }
    const t = payload.tasks;
    this.nTasks = t.n; this.firstSeed = t.first_seed; this.poolK = t.pool_k;
    this.tasks = { xs: decodeF32(t.xs) };
    if (t.ys) this.tasks.ys = decodeF32(t.ys);
    if (t.true) this.tasks.true = decodeF32(t.true);
    if (t.xq) this.tasks.xq = decodeF32(t.xq);
    this.queryN = t.query_n || 0;               // query points per task (all classes)
  }

  /** The points a network adapts to: the task's first k pool points (per class), then the
   *  user's points ([x, y] or [x1, x2, label]); onlyMine with points: the user's alone
   *  (explore.support). Returns {x, y, n, task (index or null), taskN, mineN}. */
  Engine.prototype.support = function (taskIndex, k, mine, onlyMine) {
    mine = mine || [];
    const D = this.family.in_dim, P = this.poolK;
    if (!(Number.isInteger(k) && k >= 1 && k <= P))
      throw new Error("MamlAdapt.support: K must be a whole number from 1 to " + P + " (got " + k + ")");
    if (!(Number.isInteger(taskIndex) && taskIndex >= 0 && taskIndex < this.nTasks))
      throw new Error("MamlAdapt.support: task index must be 0.." + (this.nTasks - 1));
    const useTask = !(onlyMine && mine.length);
    const C = this.classes ? this.family.n_classes : 1;
    const taskN = useTask ? C * k : 0, n = taskN + mine.length;
    const x = new Float32Array(n * D), y = this.classes ? new Int32Array(n) : new Float32Array(n);
    if (useTask) {
      const base = taskIndex * C * P;
      let o = 0;
      for (let c = 0; c < C; c++) for (let i = 0; i < k; i++, o++) {
        const src = base + c * P + i;
        for (let d = 0; d < D; d++) x[o * D + d] = this.tasks.xs[src * D + d];
        y[o] = this.classes ? c : this.tasks.ys[src];
      }
    }
    for (let i = 0; i < mine.length; i++) {
      const pt = mine[i], o = taskN + i;
      for (let d = 0; d < D; d++) x[o * D + d] = pt[d];
      y[o] = pt[D];
    }
    return { x: x, y: y, n: n, task: useTask ? taskIndex : null, taskN: taskN, mineN: mine.length };
  };

  /** explore.trajectory + blowup_step for a support set from support(). opts: steps (>= 0),
   *  lr (omitted: the run's own; a number overrides, Meta-SGD's per-weight sizes included),
   *  grid: true (the predictions on the grid after every step), "lazy" (only those asked for
   *  with res.predsAt(s): the 2-D class maps, 6.8 M multiply-adds each; the blow-up step stays
   *  exact, see below) or false (none; the blow-up then looks at the support loss alone);
   *  default true on a line, "lazy" in the plane (where there is no true curve to score).
   *  Returns {steps, thetas [S+1], support [S+1], preds [S+1] (Float32Array [G*out], null until
   *  computed in lazy mode), predsAt(s), gridError [S+1] (regression with a task),
   *  queryAccuracy / queryLoss [S+1] (classes with a task), blowup (the first step whose
   *  support loss or grid prediction is not finite or beyond ±1e6, or null), shown (the steps
   *  drawable: blowup, or S+1)}.
   *  Lazy blow-up: a step whose interval bound on |prediction| over the grid's box is below
   *  1e6/1.01 cannot have a bad grid prediction; any other step's grid predictions are
   *  computed and checked, so the answer is the same as computing them all. */
  Engine.prototype.adapt = function (sup, opts) {
    opts = opts || {};
    const steps = opts.steps === undefined ? this.family.eval_steps : opts.steps;
    if (!(Number.isInteger(steps) && steps >= 0)) throw new Error("MamlAdapt.adapt: steps must be a whole number >= 0");
    let lr = opts.lr;
    if (lr === undefined || lr === null) lr = this.lrs || this.innerLr;
    else if (!(typeof lr === "number" && isFinite(lr))) throw new Error("MamlAdapt.adapt: the step size must be a finite number");
    const model = this.model, out = model.outDim, loss = this.loss;
    const tr = trajectory(model, loss, this.params, this.keys, lr, sup.x, sup.y, sup.n, steps);
    const res = { steps: steps, thetas: tr.thetas, support: [], blowup: null };
    for (let s = 0; s <= steps; s++) res.support.push(loss.loss(tr.supportPreds[s], sup.y, sup.n, out));
    const G = this.gridN, lim = this.blowupLimit, self = this;
    const truth = sup.task !== null && this.tasks.true ? this.tasks.true.subarray(sup.task * G, (sup.task + 1) * G) : null;
    let mode = opts.grid === undefined ? (this.family.in_dim === 1 ? true : "lazy") : opts.grid;
    if (mode === "lazy" && truth) mode = true;          // the error on the curve needs every step
    res.preds = mode === false ? null : new Array(steps + 1).fill(null);
    /** The predictions on the grid after step s (computed once, on demand in lazy mode). */
    res.predsAt = function (s) {
      if (res.preds === null) throw new Error("MamlAdapt: adapt() was called with grid: false");
      if (res.preds[s] === null) res.preds[s] = model.forward(res.thetas[s], self.grid, G, null);
      return res.preds[s];
    };
    if (truth) res.gridError = [];
    const lo = this.gridAxis[0], hi = this.gridAxis[this.gridAxis.length - 1];
    for (let s = 0; s <= steps; s++) {
      let bad = !(res.support[s] <= lim && res.support[s] >= -lim);
      if (mode === true) {
        const p = res.predsAt(s);
        bad = bad || isBad(p, lim);
        if (truth) res.gridError.push(MSE.loss(p, truth, G, 1));
      } else if (mode === "lazy" && res.blowup === null && !bad) {
        // a step whose bound over the grid's box is below the limit cannot blow up there; any
        // other is decided on its actual predictions (the bound's 1% covers float32 rounding)
        if (!(1.01 * model.bound(res.thetas[s], lo, hi) < lim)) bad = isBad(res.predsAt(s), lim);
      }
      if (res.blowup === null && bad) res.blowup = s;
    }
    if (this.classes && sup.task !== null) {
      const Q = this.queryN, C = this.family.n_classes, per = Q / C;
      const xq = this.tasks.xq.subarray(sup.task * Q * 2, (sup.task + 1) * Q * 2);
      const yq = new Int32Array(Q);
      for (let i = 0; i < Q; i++) yq[i] = Math.floor(i / per);
      res.queryAccuracy = []; res.queryLoss = [];
      for (let s = 0; s <= steps; s++) {
        const p = model.forward(tr.thetas[s], xq, Q, null);
        res.queryAccuracy.push(CE.accuracy(p, yq, Q, C));
        res.queryLoss.push(CE.loss(p, yq, Q, C));
      }
    }
    res.shown = res.blowup === null ? steps + 1 : res.blowup;
    return res;
  };

  /** The predicted class at each grid point ([G] Int8Array) from one step's predictions. */
  Engine.prototype.classesOf = function (pred) {
    const G = this.gridN, C = this.family.n_classes, out = new Int8Array(G);
    for (let i = 0; i < G; i++) out[i] = argmax(pred, i * C, C);
    return out;
  };

  /** The task's own support pool and truth, for drawing (index in the batch). */
  Engine.prototype.task = function (i) {
    const D = this.family.in_dim, C = this.classes ? this.family.n_classes : 1, P = this.poolK * C;
    const t = { index: i, seed: this.firstSeed + i, describe: this.payload.tasks.describe[i],
                xs: this.tasks.xs.subarray(i * P * D, (i + 1) * P * D) };
    if (this.tasks.ys) t.ys = this.tasks.ys.subarray(i * P, (i + 1) * P);
    if (this.tasks.true) t.true = this.tasks.true.subarray(i * this.gridN, (i + 1) * this.gridN);
    if (this.tasks.xq) t.xq = this.tasks.xq.subarray(i * this.queryN * 2, (i + 1) * this.queryN * 2);
    return t;
  };

  return {
    FORMAT: FORMAT, load: function (payload) { return new Engine(payload); }, Engine: Engine,
    MLP: MLP, SineModel: SineModel, MSE: MSE, CE: CE, sgdStep: sgdStep, trajectory: trajectory,
    decodeF32: decodeF32, encodeF32: encodeF32,
  };
}));
