// Neither condition set: sentences unless NODE_ENV is `production`, read only where `process` exists.
// Written as a conditional so a bundler that defines process.env.NODE_ENV folds it to a constant.
export const DEV = typeof process === 'undefined' ? false : process.env.NODE_ENV !== 'production';
