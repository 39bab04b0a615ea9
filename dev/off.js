// Production messages: the stable code and the facts that vary (the `production` condition of `#dev`).
export const DEV = false;
