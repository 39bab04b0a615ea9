import type { TestProject } from 'vitest/node';
import { CLIENTS, startAuthServer, type AuthServer } from '../conformance/auth-server.js';

declare module 'vitest' {
  interface ProvidedContext {
    oidcIssuer: string;
    oidcClientSecret: string;
  }
}

// Starts oidc-provider on 127.0.0.1 in Node for the Worker's linking tests in workerd.
let server: AuthServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  server = await startAuthServer();
  project.provide('oidcIssuer', server.issuer);
  project.provide('oidcClientSecret', CLIENTS.basic.clientSecret);
  return async () => {
    await server?.close();
  };
}
