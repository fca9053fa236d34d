/**
 * Kubernetes' times on the wire, in UTC: metav1.Time is RFC 3339 with whole seconds
 * ("2024-01-02T03:04:05Z", Go's time.RFC3339, so a Date's milliseconds are dropped); metav1.MicroTime
 * has six fractional digits ("2024-01-02T03:04:05.678000Z", what Leases and events.k8s.io carry).
 */

/** A Date, or milliseconds since the epoch, as metav1.Time writes it (the milliseconds truncated). */
export function formatTime(time: Date | number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A metav1.Time or MicroTime in milliseconds since the epoch; undefined when absent or unreadable. */
export function parseTime(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A Date, or milliseconds since the epoch, as metav1.MicroTime writes it (microseconds from the milliseconds). */
export function formatMicroTime(time: Date | number): string {
  return new Date(time).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
