import { errorReason } from "./remote-transport.ts";

/** Options for {@link startReconnectLoop}. */
export interface ReconnectLoopOptions {
  /** One connection attempt: resolves once connected, rejects with why not. */
  attempt: () => Promise<void>;
  /** Backoff rounds before giving up (`Infinity`: never). */
  maxAttempts: number;
  /** The wait before backoff round `n` (0-based). */
  delay: (round: number) => number;
  /** Checked after every wait: a closing bridge stops the loop. */
  isClosing: () => boolean;
  onFailure: (attempt: number, reason: string) => void;
  onSuccess: (attempt: number) => void;
  onGiveUp: () => void;
}

/** A running reconnect loop. */
export interface ReconnectLoop {
  /** Why the last attempt failed (at first: why the connection was lost). */
  readonly reason: string;
  /** Ends the current backoff wait; resolves with whether the attempt that follows (or is running) succeeds. */
  attemptNow(): Promise<boolean>;
}

/**
 * Reconnects in the background with backoff. A caller that cannot wait for the backoff (a request arriving) may
 * trigger one immediate attempt; such attempts do not count towards `maxAttempts`.
 */
export function startReconnectLoop(reason: string, options: ReconnectLoopOptions): ReconnectLoop {
  let rounds = 0;
  let wake: (() => void) | undefined;
  let next = Promise.resolve(false);
  const loop = {
    reason,
    attemptNow: () => {
      wake?.();
      return next;
    },
  };
  void (async () => {
    for (let attempt = 1; rounds < options.maxAttempts; attempt++) {
      let settle!: (ok: boolean) => void;
      next = new Promise((resolve) => (settle = resolve));
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), options.delay(rounds));
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      wake = undefined;
      if (!woken) rounds++;
      if (options.isClosing()) return settle(false);
      try {
        await options.attempt();
        options.onSuccess(attempt);
        return settle(true);
      } catch (error) {
        loop.reason = errorReason(error);
        options.onFailure(attempt, loop.reason);
        settle(false);
      }
    }
    options.onGiveUp();
  })();
  return loop;
}
