/** Whether `secret` shows anywhere in an error: its text, its JSON form or its stack (every runtime). */
export const leaks = (error: unknown, secret: string): boolean => `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`.includes(secret);
