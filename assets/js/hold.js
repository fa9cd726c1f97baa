/* maml-viz: the charts a page holds for its in-page charts to draw at once (Compare's averaged
chart at K ± 1, ± 2 and ± 3, Handwriting's next drawings): window.mavizHold(store, sig, charts, max)
puts charts ({key: chart}, key a number) into window[store].sets[sig] (a Map by key, at most
`max` kept, the oldest dropped; at most 6 sets) and returns that Map. The feeders
(pages/_shared/avg_chart.py, hw_grids.py) run only this, so that the charts handed over while the
page polls do not come with a chart's whole script. */
(function (root) {
  "use strict";
  root.mavizHold = function (store, sig, charts, max) {
    const S = root[store] || (root[store] = { sets: new Map(), log: [] });
    let set = S.sets.get(sig);
    if (!set) {
      set = new Map();
      S.sets.set(sig, set);
      while (S.sets.size > 6) S.sets.delete(S.sets.keys().next().value);
    }
    for (const k in charts) set.set(Number(k), charts[k]);
    while (set.size > max) set.delete(set.keys().next().value);
    return set;
  };
}(typeof self !== "undefined" ? self : this));
