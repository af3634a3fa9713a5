// The Status a client call to the API server (the double or a real one) failed with. The client
// leaves ApiException.body as the raw JSON text; a call that succeeds is the test's failure.
import { ApiException } from '@kubernetes/client-node';

export async function callFailure(call: Promise<unknown>): Promise<{ code: number; status: any; message: string }> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const status = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    return { code: e.code, status, message: status?.message };
  }
  throw new Error('the call succeeded');
}
