/** Secret name → value of the product Worker's development secrets (see dev-secrets.mjs). */
export function devSecrets(): Record<string, string>;
/** The same as the text of an env file. */
export function devSecretsEnvFile(): string;
