import { beforeAll } from 'vitest';
import { resetSandbox } from './helpers.js';

// The sandbox is one process for the whole project, and the files run one after another: each starts
// from a fresh vendor state, as each starts with fresh Worker storage.
beforeAll(resetSandbox);
