// What the API server said, out of @kubernetes/client-node's errors: an ApiException carries the
// server's Status as text in `body` (its message reads "HTTP-Code: 403 Message: Unknown API
// Status Code! Body: ..."), a watch failure carries only `statusCode`, a network failure neither.
import { ApiException } from '@kubernetes/client-node';

export interface KubeFailure {
  /** The HTTP status, when the server answered. */
  code?: number;
  /** The Status reason (Forbidden, NotFound, Invalid, ...), when the server sent one. */
  reason?: string;
  /** The server's own message, or the client's when there was no answer. */
  message: string;
  /** The reasons of the Status's causes (NamespaceTerminating, FieldValueInvalid, ...). */
  causes?: string[];
}

function statusOf(body: unknown): { message?: string; reason?: string; causes?: string[] } | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim() } : undefined;
    }
  }
  if (!value || typeof value !== 'object') return undefined;
  const { message, reason, details } = value as { message?: unknown; reason?: unknown; details?: { causes?: { reason?: unknown }[] } };
  const causes = (Array.isArray(details?.causes) ? details.causes : []).map((c) => c?.reason).filter((r): r is string => typeof r === 'string');
  return {
    ...(typeof message === 'string' && message ? { message } : {}),
    ...(typeof reason === 'string' && reason ? { reason } : {}),
    ...(causes.length ? { causes } : {}),
  };
}

export function kubeFailure(err: unknown): KubeFailure {
  if (err instanceof ApiException) {
    const status = statusOf(err.body);
    return {
      code: err.code, ...(status?.reason ? { reason: status.reason } : {}), message: status?.message ?? `HTTP ${err.code}`,
      ...(status?.causes ? { causes: status.causes } : {}),
    };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | undefined;
  const code = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return { ...(code !== undefined ? { code } : {}), message };
}

/** The HTTP status of a failed call, if the server answered. */
export function httpStatus(err: unknown): number | undefined {
  return kubeFailure(err).code;
}

/** One line for logs and users: "403 Forbidden: <the server's message>", or the client's error. */
export function kubeErrorMessage(err: unknown): string {
  const f = kubeFailure(err);
  if (f.code === undefined) return f.message;
  return `${f.code}${f.reason ? ` ${f.reason}` : ''}: ${f.message}`;
}

/** An Error whose message is the server's (for code that logs errorMessage(err)). */
export class KubeApiError extends Error {
  readonly code: number | undefined;
  readonly reason: string | undefined;
  constructor(what: string, err: unknown) {
    const f = kubeFailure(err);
    super(`${what}: ${kubeErrorMessage(err)}`);
    this.name = 'KubeApiError';
    this.code = f.code;
    this.reason = f.reason;
  }
}
