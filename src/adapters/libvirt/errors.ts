// What a libvirt failure means to the controller, decided from libvirt's error code and domain
// (virterror.h), never from message text: the message is for people and changes with versions.
import { HypervisorBusyError, HypervisorInvalidOperationError, HypervisorNotFoundError, HypervisorUnavailableError } from '../../ports/hypervisor.js';
import { LibvirtError } from './native.js';

export type FailureKind =
  /** The domain or network does not exist (any more). */
  | 'absent'
  /** The daemon went away (socket closed, keepalive timeout) or this connection is closed. */
  | 'connection-lost'
  /** Another job holds the domain; retry later. */
  | 'busy'
  /** The call does not fit the domain's state. */
  | 'invalid'
  | 'other';

/** Codes the RPC layer (VIR_FROM_RPC) gives when the socket to the daemon fails or closes. */
const RPC_LOST = new Set(['VIR_ERR_SYSTEM_ERROR', 'VIR_ERR_INTERNAL_ERROR', 'VIR_ERR_RPC']);

export function classify(err: unknown): FailureKind {
  if (!(err instanceof LibvirtError)) return 'other';
  switch (err.codeName) {
    case 'VIR_ERR_NO_DOMAIN':
    case 'VIR_ERR_NO_NETWORK':
      return 'absent';
    // Our own connection handle closed (the binding answers this without reaching libvirt).
    case 'VIR_ERR_INVALID_CONN':
      return 'connection-lost';
    case 'VIR_ERR_OPERATION_TIMEOUT': // "cannot acquire state change lock"
    case 'VIR_ERR_RESOURCE_BUSY':
    case 'VIR_ERR_AGENT_UNRESPONSIVE':
      return 'busy';
    case 'VIR_ERR_OPERATION_INVALID':
      return 'invalid';
  }
  if (err.domainName === 'VIR_FROM_RPC' && RPC_LOST.has(err.codeName)) return 'connection-lost';
  return 'other';
}

/**
 * libvirtd is not there (yet) at connect time: not running, restarting, its socket not made yet.
 * Worth waiting for; an unknown driver or refused credentials are the configuration's and are not.
 */
export function isUnreachable(err: unknown): boolean {
  return err instanceof LibvirtError && err.domainName === 'VIR_FROM_RPC' && RPC_LOST.has(err.codeName);
}

/**
 * A LibvirtError is made when the call completes, from no JavaScript frame: give it the stack of
 * the adapter's caller (shown with --log-level debug), so a failure says where it came from.
 */
export function withCallerStack<T>(err: T, from: Function): T {
  if (err instanceof LibvirtError && !/\n\s+at /.test(err.stack ?? '')) Error.captureStackTrace(err, from);
  return err;
}

/** The port's error for a failed call (connection-lost is the caller's, which also starts the reconnect). */
export function toPortError(err: unknown, what: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  switch (classify(err)) {
    case 'absent': return new HypervisorNotFoundError(`${what}: ${message}`);
    case 'busy': return new HypervisorBusyError(`${what}: ${message}`);
    case 'invalid': return new HypervisorInvalidOperationError(`${what}: ${message}`);
    case 'connection-lost': return new HypervisorUnavailableError(`${what}: ${message}`);
    default: return err;
  }
}
