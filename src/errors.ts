/** One error hierarchy for weld. Corrupt input is a `format` error, never a `bug`. */
export type ErrorKind = 'format' | 'usage' | 'notfound' | 'conflict' | 'tool' | 'io' | 'bug';

const EXIT: Record<ErrorKind, number> = {
  format: 1,
  usage: 2,
  notfound: 1,
  conflict: 1,
  tool: 1,
  io: 1,
  bug: 70,
};

export class WeldError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly data: Record<string, unknown>;
  exitCode: number;

  constructor(kind: ErrorKind, code: string, message: string, data: Record<string, unknown> = {}, exitCode?: number) {
    super(message);
    this.name = 'WeldError';
    this.kind = kind;
    this.code = code;
    this.data = data;
    this.exitCode = exitCode ?? EXIT[kind];
  }
}

/** Corrupt or hostile input. `where` names the format, field and offset. */
export function formatError(format: string, message: string, data: Record<string, unknown> = {}): WeldError {
  return new WeldError('format', `E_${format.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, message, { format, ...data });
}

export function usageError(message: string, data: Record<string, unknown> = {}): WeldError {
  return new WeldError('usage', 'E_USAGE', message, data);
}

export function notFound(message: string, data: Record<string, unknown> = {}): WeldError {
  return new WeldError('notfound', 'E_NOT_FOUND', message, data);
}

export function conflict(message: string, data: Record<string, unknown> = {}): WeldError {
  return new WeldError('conflict', 'E_CONFLICT', message, data);
}

export function bug(message: string, data: Record<string, unknown> = {}): WeldError {
  return new WeldError('bug', 'E_BUG', `internal error: ${message}`, data);
}

export function isWeldError(e: unknown): e is WeldError {
  return e instanceof WeldError;
}
