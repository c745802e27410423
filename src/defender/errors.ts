/** Errors from the Defender APIs, with a message a user can act on. Never includes a token. */
export class DefenderApiError extends Error {
  constructor(
    message: string,
    public readonly status: number,
    public readonly code: string,
    public readonly transient: boolean,
  ) {
    super(message);
    this.name = 'DefenderApiError';
  }
}

/** A run stopped because its time or call budget ran out; the next run continues from the checkpoint. */
export class BudgetExhaustedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExhaustedError';
  }
}
