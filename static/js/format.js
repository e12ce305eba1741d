// Number formatting shared by the panel and the charts.

// One formatter for thousands, made once: toLocaleString makes one per
// call, and a table of a few thousand figures took most of a drawing.
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** fmt prints a figure with about three significant digits. */
export function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + ' G';
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + ' M';
  if (a >= 1e4) return WHOLE.format(Math.round(v));
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  return v.toPrecision(3);
}

/** el creates an HTML element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) e.append(c);
  return e;
}

/** byKey finds the metric with this key in a result's metrics. */
export function byKey(metrics, key) {
  return metrics.find((m) => m.key === key);
}
