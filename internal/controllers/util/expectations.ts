// Controller expectations (upstream ControllerExpectations + UIDTrackingControllerExpectations): after a
// controller creates or deletes pods it waits until the informer has seen them before acting again, so a slow
// watch never makes it create or delete twice. Expectations expire after 5 minutes, as upstream.

const TTL_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  deletes: Set<string>;
  at: number;
}

export class Expectations {
  private m = new Map<string, Expectation>();

  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.deletes.size === 0) return true;
    return Date.now() - e.at > TTL_MS;
  }

  expectCreations(key: string, n: number): void {
    this.m.set(key, { add: n, deletes: this.m.get(key)?.deletes ?? new Set(), at: Date.now() });
  }

  expectDeletions(key: string, uids: string[]): void {
    const prev = this.m.get(key);
    this.m.set(key, { add: prev?.add ?? 0, deletes: new Set(uids), at: Date.now() });
  }

  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string, uid: string | undefined): void {
    if (uid) this.m.get(key)?.deletes.delete(uid);
  }

  delete(key: string): void {
    this.m.delete(key);
  }
}
