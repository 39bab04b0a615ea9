// A free TCP port on 127.0.0.1, for `npm start`, the soak, the benchmarks and the tests that start
// servers of their own.
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it; the probe socket is closed before it answers). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(Number(port), '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
