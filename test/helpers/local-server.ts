import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A server on 127.0.0.1, port 0, that stops with everything it opened. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<LocalServer> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A real HTTP server (node:http) answering with `handler`. */
export function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<LocalServer> {
  return listen(createServer((req, res) => void handler(req, res)), new Set());
}

/**
 * A TCP relay in front of `target` that holds the first connection for `coldMs` before it reaches
 * the server, like a cold connection (DNS, TCP, TLS) does: the server sees that request arrive late.
 */
export function coldRelay(target: string, coldMs: number): Promise<LocalServer> {
  const { port } = new URL(target);
  let first = true;
  const sockets = new Set<Socket>();
  const relay = createTcpServer((client) => {
    const delay = first ? coldMs : 0;
    first = false;
    setTimeout(() => {
      const upstream = connect(Number(port), '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    }, delay);
  });
  return listen(relay, sockets);
}

/** The request body as text. */
export async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

/**
 * A real HTTP server (node:http) in front of a fetch handler (an app written for fetch, such as a
 * Hono app): each request goes to `handler` as a `Request` on the server's own origin, and its
 * `Response` is written back, every Set-Cookie kept; `seen` hears of each exchange.
 */
export async function fetchServer(handler: (request: Request) => Promise<Response>, seen?: (request: Request, response: Response) => void): Promise<LocalServer> {
  let origin = '';
  const server = await httpServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await bodyOf(req);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const request = new Request(new URL(req.url ?? '/', origin), { method, headers, ...(body === undefined ? {} : { body }) });
    const response = await handler(request);
    seen?.(request, response);
    res.statusCode = response.status;
    for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  origin = server.url;
  return server;
}
