// Issue 8 (12): errors were logged as the client library's text ("HTTP-Code: 403 Message:
// Unknown API Status Code! Body: ..."); one helper reads the server's Status instead.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { httpStatus, KubeApiError, kubeErrorMessage, kubeFailure } from '../../src/adapters/kube-api-error.js';
import { startingFields } from '../../src/cli/run-command.js';
import { buildConfig } from '../../src/config.js';

const FORBIDDEN = 'virtualmachines.wimaxvm.io is forbidden: User "system:serviceaccount:wimaxvm-system:wimaxvm-controller" cannot create resource "virtualmachines" in API group "wimaxvm.io" in the namespace "default"';
const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

describe('kubeFailure', () => {
  it.each<[string, unknown, { code?: number; reason?: string; message: string }, string]>([
    ['a Status body as text', new ApiException(403, 'Unknown API Status Code!', status(403, 'Forbidden', FORBIDDEN), {}), { code: 403, reason: 'Forbidden', message: FORBIDDEN }, `403 Forbidden: ${FORBIDDEN}`],
    ['a Status body already parsed', new ApiException(404, 'x', { kind: 'Status', message: 'virtualmachines.wimaxvm.io "a" not found', reason: 'NotFound' }, {}), { code: 404, reason: 'NotFound', message: 'virtualmachines.wimaxvm.io "a" not found' }, '404 NotFound: virtualmachines.wimaxvm.io "a" not found'],
    ['a plain-text body', new ApiException(502, 'x', 'Bad Gateway\n', {}), { code: 502, message: 'Bad Gateway' }, '502: Bad Gateway'],
    ['an empty body', new ApiException(500, 'x', '', {}), { code: 500, message: 'HTTP 500' }, '500: HTTP 500'],
    ['a watch failure', Object.assign(new Error('Gone'), { statusCode: 410 }), { code: 410, message: 'Gone' }, '410: Gone'],
    ['no answer', new Error('connect ECONNREFUSED 127.0.0.1:6443'), { message: 'connect ECONNREFUSED 127.0.0.1:6443' }, 'connect ECONNREFUSED 127.0.0.1:6443'],
  ])('%s', (_label, err, failure, line) => {
    expect(kubeFailure(err)).toEqual(failure);
    expect(kubeErrorMessage(err)).toBe(line);
    expect(httpStatus(err)).toBe(failure.code);
    expect(kubeErrorMessage(err)).not.toMatch(/HTTP-Code|Unknown API Status Code|Body:/);
  });

  it('KubeApiError says what was being done and what the server said', () => {
    const e = new KubeApiError('writing the status of VirtualMachine/default/a', new ApiException(403, 'x', status(403, 'Forbidden', FORBIDDEN), {}));
    expect(e.message).toBe(`writing the status of VirtualMachine/default/a: 403 Forbidden: ${FORBIDDEN}`);
    expect(e).toMatchObject({ code: 403, reason: 'Forbidden' });
  });
});

describe('the starting line', () => {
  it('names the directory in file mode only', () => {
    expect(startingFields(buildConfig({ dir: '/srv/vms' }))).toMatchObject({ source: 'dir', dir: '/srv/vms' });
    const kube = startingFields(buildConfig({ source: 'kube', namespace: 'lab' }));
    expect(kube).toMatchObject({ source: 'kube', namespace: 'lab' });
    expect(kube).not.toHaveProperty('dir');
  });
});
