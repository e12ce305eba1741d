// The CPU-bound work of lesson 2's browser experiment. Loaded as a module
// Web Worker it does its share of the work when told and reports each
// piece's start and end; imported by the page it gives the main thread the
// very same loop.

/** UNIT is how many xorshift rounds one unit of work is. */
export const UNIT = 1 << 16;

/** spin does n units of pure integer arithmetic and returns the result. */
export function spin(n, x) {
  for (let u = 0; u < n; u++) {
    for (let i = 0; i < UNIT; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
  }
  return x | 0;
}

/** now is a time every thread of the page agrees on, in ms. */
export const now = () => performance.timeOrigin + performance.now();

const inWorker = typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope;

if (inWorker) {
  // Warm the loop up before the timed part, as the main thread's
  // calibration does for its own copy.
  let x = spin(32, 0x2545f491);
  self.onmessage = (e) => {
    const { units, piece } = e.data;
    let done = 0;
    while (done < units) {
      const n = Math.min(piece, units - done);
      const start = now();
      x = spin(n, x);
      done += n;
      self.postMessage({ type: 'piece', start, end: now(), done });
    }
    self.postMessage({ type: 'done', result: x });
  };
  self.postMessage({ type: 'ready' });
}
