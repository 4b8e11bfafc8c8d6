/** Load shedding of one process (`SHED_*` variables). 0 turns a criterion off. */
export interface AdmissionOptions {
  /** Requests being served at once above which new ones get 503 (`SHED_MAX_IN_FLIGHT`). */
  maxInFlight: number;
  /** Event-loop delay (ms) above which new requests get 503 (`SHED_MAX_EVENT_LOOP_DELAY`). */
  maxEventLoopDelayMs: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionOptions> = {
  maxInFlight: 32,
  maxEventLoopDelayMs: 0,
};
