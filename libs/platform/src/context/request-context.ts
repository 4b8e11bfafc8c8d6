import { AsyncLocalStorage } from 'node:async_hooks';

/** What the platform knows about the request being served, wherever the code runs. */
export interface RequestContextStore {
  requestId: string;
  /** Set once authentication has identified the caller. */
  userId?: string;
  /**
   * The request's `x-chaos` header (CONTRACT §7), passed on to internal calls so that a fault
   * can be injected one hop further; each app decides itself whether chaos is on.
   */
  chaos?: string;
}

const storage = new AsyncLocalStorage<RequestContextStore>();

/** Access to the current request's context, kept across awaits by AsyncLocalStorage. */
export const RequestContext = {
  run<T>(store: RequestContextStore, fn: () => T): T {
    return storage.run(store, fn);
  },
  current(): RequestContextStore | undefined {
    return storage.getStore();
  },
  requestId(): string | undefined {
    return storage.getStore()?.requestId;
  },
};
