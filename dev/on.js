// Development messages: full English sentences (the `workerd` and `development` conditions of `#dev`).
export const DEV = true;
