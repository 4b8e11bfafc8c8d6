/** Injection token of the app's validated configuration object. */
export const APP_CONFIG = Symbol('KEEL_APP_CONFIG');
