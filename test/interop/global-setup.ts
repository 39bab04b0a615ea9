import type { TestProject } from 'vitest/node';
import { CLIENTS, startAuthServer } from '../conformance/auth-server.js';
import { NODE_CLIENTS, startNodeOAuthServer } from '../conformance/node-oauth2-server.js';

/** What the interop suite needs to reach both servers from any runtime (test data, not secrets). */
export interface Interop {
  oidcIssuer: string;
  oidcBasic: { clientId: string; clientSecret: string };
  oidcPost: { clientId: string; clientSecret: string };
  nodeTokenUrl: string;
  nodeBasic: { clientId: string; clientSecret: string };
  nodeSpecial: { clientId: string; clientSecret: string };
  nodeUser: { username: string; password: string };
}

declare module 'vitest' {
  interface ProvidedContext {
    interop: Interop;
  }
}

// Two authorization servers nobody here wrote, oidc-provider and @node-oauth/oauth2-server, started in
// Node on 127.0.0.1 for the core's interop tests in Chromium and workerd (which cannot start them).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const oidc = await startAuthServer();
  const node = await startNodeOAuthServer({ cors: true });
  project.provide('interop', {
    oidcIssuer: oidc.issuer,
    oidcBasic: CLIENTS.basic,
    oidcPost: CLIENTS.post,
    nodeTokenUrl: node.tokenUrl,
    nodeBasic: NODE_CLIENTS.basic,
    nodeSpecial: NODE_CLIENTS.special,
    nodeUser: NODE_CLIENTS.user,
  });
  return async () => {
    await oidc.close();
    await node.close();
  };
}
