/** True where errors carry English sentences (development), false where only codes and facts (production). */
export declare const DEV: boolean;
