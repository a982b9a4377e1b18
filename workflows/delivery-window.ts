/**
 * The delivery IDs an incident remembers to recognise redeliveries: a bounded window, so that neither the workflow's
 * memory nor the state it carries across continue-as-new grows with the number of alerts.
 *
 * An ID counts as seen while it is among the `maxIds` most recently first-seen IDs and was first seen less than
 * `maxAgeMs` ago. SNS retries a delivery within minutes (an hour at most with a custom policy) and EventBridge for up
 * to 24 hours, so a redelivery outside the window is rare; it is then counted as a re-firing, never lost.
 * Times are workflow time (deterministic).
 */
export interface DeliveryWindowLimits {
  maxIds: number;
  maxAgeMs: number;
}

/** `[deliveryId, first seen (epoch ms)]`, oldest first: the window as carried to the next run. */
export type CarriedDeliveries = [string, number][];

export class DeliveryWindow {
  /** Insertion order is first-seen order: the oldest entry is evicted first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly limits: DeliveryWindowLimits,
    carried: CarriedDeliveries = [],
  ) {
    for (const [id, at] of carried) this.seen.set(id, at);
  }

  /** Records `id` at `now`; true when it was already in the window (a redelivery). */
  check(id: string, now: number): boolean {
    const at = this.seen.get(id);
    if (at !== undefined && now - at < this.limits.maxAgeMs) return true;
    // Unknown, or first seen too long ago: a new delivery, remembered from now.
    this.seen.delete(id);
    this.seen.set(id, now);
    while (this.seen.size > this.limits.maxIds) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  /** What the next run needs: the entries still inside the window at `now`. */
  carry(now: number): CarriedDeliveries {
    return [...this.seen].filter(([, at]) => now - at < this.limits.maxAgeMs);
  }
}
