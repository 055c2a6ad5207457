/**
 * The one error model. Services throw AppError; the HTTP layer and the CLI turn it into a
 * response or an exit message through the single code-to-status table below.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  precondition_required: 428,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldProblem {
  /** Where the problem is, as a dotted path ("body.reason", "stages[2].team"). */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);

export const forbidden = (message: string): AppError => new AppError('forbidden', message);

export function invalid(path: string, message: string): AppError {
  return new AppError('validation_failed', `${path}: ${message}`, { problems: [{ path, message }] });
}

export function invalidMany(problems: FieldProblem[], summary = 'The request is invalid'): AppError {
  const first = problems[0];
  const message = first ? `${summary}: ${first.path}: ${first.message}` : summary;
  return new AppError('validation_failed', message, { problems });
}
