// A second process for the controller-lock tests: takes the lock of the state directory given
// as argv[2] with the compiled module (dist/), says "held" (or the error), then waits to be killed.
import { acquireControllerLock } from '../../dist/src/adapters/store/controller-lock.js';

try {
  acquireControllerLock(process.argv[2], { directory: process.argv[3] ?? '/watched', identity: 'test-holder', listen: 'off' });
  process.stdout.write('held\n');
} catch (err) {
  process.stdout.write(`failed: ${err.message}\n`);
  process.exit(1);
}
setInterval(() => {}, 1 << 30);
