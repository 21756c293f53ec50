// Typed errors shared by server, client and CLI. Callers branch on `code`,
// never on message text; the API maps codes to HTTP status in one place.

export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
  // Client-side only: the server could not be reached at all.
  unreachable: 0,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DkronError extends Error {
  readonly code: ErrorCode;
  /** Dotted path of the offending input field, when the error is about one. */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DkronError";
    this.code = code;
    if (field !== undefined) this.field = field;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export const isDkronError = (err: unknown, code?: ErrorCode): err is DkronError =>
  err instanceof DkronError && (code === undefined || err.code === code);

export const invalid = (field: string, message: string): DkronError =>
  new DkronError("invalid_argument", `${field}: ${message}`, field);

export const notFound = (what: string): DkronError => new DkronError("not_found", `${what} not found`);

export function statusToCode(status: number): ErrorCode {
  for (const [code, s] of Object.entries(ERROR_STATUS)) if (s === status) return code as ErrorCode;
  return status >= 500 ? "internal" : "invalid_argument";
}
