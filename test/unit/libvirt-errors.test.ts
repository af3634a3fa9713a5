import { describe, expect, it } from 'vitest';
import { classify, isUnreachable, toPortError } from '../../src/adapters/libvirt/errors.js';
import { LibvirtError } from '../../src/adapters/libvirt/native.js';
import { HypervisorBusyError, HypervisorInvalidOperationError, HypervisorNotFoundError, HypervisorUnavailableError } from '../../src/ports/hypervisor.js';

const err = (codeName: string, domainName: string, message = 'whatever the text says'): LibvirtError =>
  new LibvirtError({ message, code: 0, codeName, domain: 0, domainName, level: 2, call: 'virDomainCreateWithFlags' });

describe('libvirt failures are classified by code and domain, never by message', () => {
  const rows: [string, string, string][] = [
    ['VIR_ERR_NO_DOMAIN', 'VIR_FROM_QEMU', 'absent'],
    ['VIR_ERR_NO_NETWORK', 'VIR_FROM_NETWORK', 'absent'],
    ['VIR_ERR_INVALID_CONN', 'VIR_FROM_NONE', 'connection-lost'], // a call on our closed handle
    ['VIR_ERR_SYSTEM_ERROR', 'VIR_FROM_RPC', 'connection-lost'], // socket read/write failed
    ['VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_RPC', 'connection-lost'], // client socket is closed
    ['VIR_ERR_RPC', 'VIR_FROM_RPC', 'connection-lost'],
    ['VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_QEMU', 'other'], // a driver's internal error is not the socket's
    ['VIR_ERR_SYSTEM_ERROR', 'VIR_FROM_QEMU', 'other'],
    ['VIR_ERR_OPERATION_TIMEOUT', 'VIR_FROM_QEMU', 'busy'], // cannot acquire state change lock
    ['VIR_ERR_RESOURCE_BUSY', 'VIR_FROM_QEMU', 'busy'],
    ['VIR_ERR_AGENT_UNRESPONSIVE', 'VIR_FROM_QEMU', 'busy'],
    ['VIR_ERR_OPERATION_INVALID', 'VIR_FROM_QEMU', 'invalid'],
    ['VIR_ERR_NO_CONNECT', 'VIR_FROM_NONE', 'other'], // no driver for the URI: configuration
    ['VIR_ERR_AUTH_FAILED', 'VIR_FROM_RPC', 'other'],
  ];
  it.each(rows)('%s from %s → %s', (codeName, domainName, kind) => {
    expect(classify(err(codeName, domainName))).toBe(kind);
  });

  it('a message that reads like a lost connection changes nothing', () => {
    expect(classify(err('VIR_ERR_OPERATION_FAILED', 'VIR_FROM_QEMU', 'End of file while reading data: client socket is closed'))).toBe('other');
    expect(classify(new Error('Domain not found: no domain with matching name'))).toBe('other');
  });

  it('only a socket failure at connect time is worth waiting for', () => {
    expect(isUnreachable(err('VIR_ERR_SYSTEM_ERROR', 'VIR_FROM_RPC'))).toBe(true);
    expect(isUnreachable(err('VIR_ERR_NO_CONNECT', 'VIR_FROM_NONE'))).toBe(false);
    expect(isUnreachable(err('VIR_ERR_AUTH_FAILED', 'VIR_FROM_RPC'))).toBe(false);
  });

  it("maps to the port's errors, keeping libvirt's message", () => {
    expect(toPortError(err('VIR_ERR_NO_DOMAIN', 'VIR_FROM_QEMU', 'gone'), 'start vm1')).toEqual(new HypervisorNotFoundError('start vm1: gone'));
    expect(toPortError(err('VIR_ERR_OPERATION_INVALID', 'VIR_FROM_QEMU', 'domain is not running'), 'suspend vm1')).toBeInstanceOf(HypervisorInvalidOperationError);
    expect(toPortError(err('VIR_ERR_OPERATION_TIMEOUT', 'VIR_FROM_QEMU'), 'x')).toBeInstanceOf(HypervisorBusyError);
    expect(toPortError(err('VIR_ERR_RPC', 'VIR_FROM_RPC'), 'x')).toBeInstanceOf(HypervisorUnavailableError);
    const other = err('VIR_ERR_XML_ERROR', 'VIR_FROM_DOMAIN');
    expect(toPortError(other, 'x')).toBe(other);
  });
});
