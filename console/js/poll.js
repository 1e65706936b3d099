// Following an operation while the page is open: a check every few seconds while the tab is
// visible, slower and slower while it is hidden (and a check at once when it shows again), and
// backing off after errors, so a room of wall screens and forgotten tabs stays cheap.

/** Seconds between checks while the tab is visible. */
export const VISIBLE_SECONDS = 3;
const HIDDEN_FIRST_SECONDS = 30;
const MAX_SECONDS = 300;

/**
 * Calls `check()` (async) again and again until `stop()`. `onState({ok, error, nextIn})` is told
 * after each check. Returns `{stop, now}`: `now()` checks at once.
 */
export function follow(check, onState = () => {}) {
  let timer = null;
  let stopped = false;
  let failures = 0;
  let hiddenRounds = 0;
  let running = false;

  const delay = () => {
    if (failures > 0) return Math.min(VISIBLE_SECONDS * 2 ** failures, 60);
    if (document.hidden) return Math.min(HIDDEN_FIRST_SECONDS * 2 ** hiddenRounds, MAX_SECONDS);
    return VISIBLE_SECONDS;
  };

  const schedule = () => {
    clearTimeout(timer);
    if (stopped) return;
    const seconds = delay();
    timer = setTimeout(run, seconds * 1000);
    return seconds;
  };

  async function run() {
    if (stopped || running) return;
    running = true;
    let error = null;
    try {
      await check();
      failures = 0;
    } catch (e) {
      if (e.name === "AbortError") return;
      failures += 1;
      error = e;
    } finally {
      running = false;
    }
    hiddenRounds = document.hidden ? hiddenRounds + 1 : 0;
    const nextIn = schedule();
    onState({ ok: !error, error, nextIn });
  }

  const onVisibility = () => {
    if (!document.hidden) {
      hiddenRounds = 0;
      run();
    }
  };
  document.addEventListener("visibilitychange", onVisibility);
  schedule();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    },
    now: run,
  };
}
