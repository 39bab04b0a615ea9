/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number>;
/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port: number | string): Promise<boolean>;
