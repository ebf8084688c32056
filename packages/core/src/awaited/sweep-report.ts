/** What one sweep did: `hub.sweep()` resolves with it. */
export interface SweepReport {
  /** Entries leased and looked at. */
  leased: number;
  /** Status queries asked. */
  checked: number;
  /** Payments settled by this sweep's status queries (events processed for the first time here). */
  recovered: number;
  /** Payments the gateway had already settled through another path (a duplicate here). */
  alreadySettled: number;
  /** Asked, still not final (pending, or unknown to the gateway): asked again later. */
  waiting: number;
  /** Not asked: the gateway's budget of status queries was spent, or its API was down this sweep. */
  deferred: number;
  /** Made overdue by this sweep (the `awaited.overdue` notice was sent). */
  overdue: number;
  /** Status queries that failed, and list operations that failed. */
  errors: number;
}

export const emptySweepReport = (): SweepReport => ({
  leased: 0,
  checked: 0,
  recovered: 0,
  alreadySettled: 0,
  waiting: 0,
  deferred: 0,
  overdue: 0,
  errors: 0,
});
