/** `closed`: calls flow. `open`: calls fail fast. `half-open`: one trial call decides. */
export type CircuitState = "closed" | "open" | "half-open";

/** What health and the catalog show about a breaker. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Epoch ms when an open circuit lets a trial call through. */
  retryAt?: number;
}

/**
 * Opens after `threshold` consecutive failures; after `cooldownMs` lets one trial call through (half-open):
 * its success closes the circuit, its failure opens it again for another cooldown.
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(
    readonly threshold: number,
    readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go ahead now; in half-open state only one trial call is admitted at a time. */
  tryAcquire(): boolean {
    if (this.#state === "open" && this.now() - this.#openedAt >= this.cooldownMs) this.#state = "half-open";
    if (this.#state === "closed") return true;
    if (this.#state === "half-open" && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.#state = "closed";
    this.#failures = 0;
    this.#trialInFlight = false;
  }

  failure(): void {
    this.#failures++;
    this.#trialInFlight = false;
    if (this.#state === "half-open" || this.#failures >= this.threshold) {
      this.#state = "open";
      this.#openedAt = this.now();
    }
  }

  /** A call that ended without a verdict (aborted by its caller): frees the half-open trial slot. */
  release(): void {
    this.#trialInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    if (this.#state === "open" && this.now() - this.#openedAt >= this.cooldownMs) this.#state = "half-open";
    return {
      state: this.#state,
      consecutiveFailures: this.#failures,
      ...(this.#state === "open" ? { retryAt: this.#openedAt + this.cooldownMs } : {}),
    };
  }
}
