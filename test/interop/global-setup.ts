import type { TestProject } from 'vitest/node';
import { CLIENTS, startAuthServer } from '../conformance/auth-server.js';
import { startBetterAuth } from '../conformance/better-auth-server.js';
import { NODE_CLIENTS, startNodeOAuthServer } from '../conformance/node-oauth2-server.js';
import { OPENAUTH_CLIENTS, startOpenAuth } from '../conformance/openauth-server.js';

/** What the interop suite needs to reach both servers from any runtime (test data, not secrets). */
export interface Interop {
  oidcIssuer: string;
  oidcBasic: { clientId: string; clientSecret: string };
  oidcPost: { clientId: string; clientSecret: string };
  nodeTokenUrl: string;
  nodeBasic: { clientId: string; clientSecret: string };
  nodeSpecial: { clientId: string; clientSecret: string };
  nodeUser: { username: string; password: string };
  openauthIssuer: string;
  openauthMachine: { clientId: string; clientSecret: string };
  betterAuthIssuer: string;
  betterAuthClient: { clientId: string; clientSecret: string };
}

declare module 'vitest' {
  interface ProvidedContext {
    interop: Interop;
  }
}

// Authorization servers nobody here wrote, oidc-provider, @node-oauth/oauth2-server, OpenAuth and better-auth, started
// in Node on 127.0.0.1 for the core's interop tests in Chromium and workerd (which cannot start them).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const oidc = await startAuthServer();
  const node = await startNodeOAuthServer({ cors: true });
  const openauth = await startOpenAuth();
  const betterAuth = await startBetterAuth({ cors: true });
  project.provide('interop', {
    oidcIssuer: oidc.issuer,
    oidcBasic: CLIENTS.basic,
    oidcPost: CLIENTS.post,
    nodeTokenUrl: node.tokenUrl,
    nodeBasic: NODE_CLIENTS.basic,
    nodeSpecial: NODE_CLIENTS.special,
    nodeUser: NODE_CLIENTS.user,
    openauthIssuer: openauth.issuer,
    openauthMachine: OPENAUTH_CLIENTS.machine,
    betterAuthIssuer: betterAuth.issuer,
    betterAuthClient: betterAuth.confidential,
  });
  return async () => {
    await oidc.close();
    await node.close();
    await openauth.close();
    await betterAuth.close();
  };
}
