// Exponential backoff with jitter: initial, doubled per failure up to max,
// times a factor in [0.8, 1.2) drawn from `random` (inject a constant for
// deterministic tests: 0.5 gives exactly the doubled value).
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(b: Backoff, failures: number, random: () => number): number {
  let ms = b.initialMs;
  for (let i = 0; i < failures && ms < b.maxMs; i++) ms *= 2;
  ms = Math.min(ms, b.maxMs);
  return Math.round(ms * (0.8 + 0.4 * random()));
}
