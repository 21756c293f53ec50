declare const __DKRON_VERSION__: string | undefined;
export const VERSION: string = typeof __DKRON_VERSION__ === "string" ? __DKRON_VERSION__ : "0.1.0-dev";
